"""Describing the platform: names, kinds, settings and which of them are secret."""

from __future__ import annotations

from bridge.testing.checks import check
from bridge.testing.harness import Harness


@check("describing")
def check_describes_itself(h: Harness) -> None:
    """describe_platform names the platform, its kind and unique settings."""
    info = h.info
    assert info.name == h.platform, f"describe_platform names {info.name!r}, the entry point {h.platform!r}"
    assert info.kind in ("ecommerce", "channel")
    assert info.display_name, "describe_platform has no display_name"
    names = [s.name for s in info.settings]
    assert len(names) == len(set(names)), "setting names must be unique"
    assert "base_url" not in names, "base_url is added by the core; do not declare it"
    if info.kind == "ecommerce":
        assert info.markets is None and info.regions is None, "markets are a channel's declaration"


@check("describing")
def check_every_setting_says_whether_it_is_secret(h: Harness) -> None:
    """Every setting and app setting declares secret=True or secret=False explicitly."""
    unsaid = [f"setting {s.name}" for s in h.info.settings if "secret" not in s.model_fields_set]
    unsaid += [f"app setting {a.name}" for a in h.info.app_settings if "secret" not in a.model_fields_set]
    assert not unsaid, ("say secret=True or secret=False for " + ", ".join(unsaid)
                        + " (a secret is encrypted, hidden when typed and never printed)")


@check("describing")
def check_credentials_are_secret_settings(h: Harness) -> None:
    """What the sandbox takes as credentials is declared as secret settings."""
    declared = {s.name: s for s in h.info.settings}
    wrong = [k for k in h.credentials() if k in declared and not declared[k].secret]
    assert not wrong, (f"{', '.join(wrong)} {'is a credential' if len(wrong) == 1 else 'are credentials'} "
                       "the sandbox hands out but not declared secret=True")
