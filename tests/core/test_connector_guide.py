"""docs/writing-a-connector.md says what the code does: the kit's counts by category, the flow
names Prerequisite.flows takes, the hooks the scaffold writes."""

from __future__ import annotations

import re
from pathlib import Path

from bridge.sync.base import load_builtin_flows
from bridge.testing.checks import count_by_category

GUIDE = (Path(__file__).resolve().parents[2] / "docs/writing-a-connector.md").read_text()


def test_the_kit_table_counts_what_the_kit_runs():
    eco, channel = count_by_category("ecommerce"), count_by_category("channel")
    rows = {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(
        r"^\| ([a-z, ]+) \| ([^|]+) \| ([^|]+) \|", GUIDE, re.M)}
    for category in ("describing", "connecting", "catalog", "orders", "refunds", "fulfilment", "errors", "webhooks"):
        e, c = (x.strip() for x in rows[category])
        assert e == str(eco.get(category, "–")), (category, e, eco)
        assert c == str(channel.get(category, "–")), (category, c, channel)
    assert rows["listings, inventory, tracking"][1].strip() == " + ".join(
        str(channel[k]) for k in ("listings", "inventory", "tracking"))
    listed = {"describing", "connecting", "catalog", "orders", "refunds", "fulfilment", "errors", "webhooks",
              "listings", "inventory", "tracking"}
    assert set(eco) | set(channel) <= listed, "a new category of checks is missing from the guide's table"
    assert f"all {sum(eco.values())} eCommerce checks" in " ".join(GUIDE.split())


def test_the_flow_names_are_the_flows():
    text = " ".join(GUIDE.split())
    said = text.split("**`flows` takes the flows' names: ", 1)[1].split("** (empty", 1)[0]
    named = set(re.findall(r"`([a-z]+)`", said))
    assert named == set(load_builtin_flows())
