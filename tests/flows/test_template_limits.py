"""Templates run for every product in a worker pool all organizations share: output size, loop
iterations and render time are bounded, and a template over a limit is refused when saved."""

from __future__ import annotations

import time

import pytest

from bridge.errors import Misconfigured
from bridge.models import Money, Product, Variant
from bridge.sync.listing import render

PRODUCT = Product(remote_id="p1", title="A shirt", description_html="<p>Soft</p>", variants=[
    Variant(remote_id="v1", sku="S-1", price=Money(amount="10.00", currency="GBP"), quantity=1)])

ABUSIVE = [
    "{{ 'A' * 30000000 }}",
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}x{% endfor %}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ 'x'.ljust(100000000) }}",
    "{{ 'x'|center(100000000) }}",
    "{{ '%100000000s'|format('x') }}",
    "{{ '{:>100000000}'.format('x') }}",
    "{{ ('a' * 1000)|replace('', 'b' * 1000) }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
    "{{ range(100000)|join(',') }}",
    "{{ 'x'|indent(100000000, true) }}",
    "{% for c in 'x' * 9000 %}{% for d in 'y' * 9000 %}{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("template", ABUSIVE)
def test_abusive_templates_are_refused_quickly(template: str) -> None:
    started = time.perf_counter()
    with pytest.raises(Misconfigured, match="template"):
        render(template, "", PRODUCT, {"name": "UK"})
    assert time.perf_counter() - started < 2.0


def test_ordinary_templates_still_render() -> None:
    t = ("{{ product.title|upper }} | {{ shop.name }}{% for v in product.variants %}-{{ v.sku }}{% endfor %}"
         "{% for i in range(3) %}{{ i }}{% endfor %}{{ '-' * 10 }}{{ product.title ~ '!' }}")
    assert render(t, "", PRODUCT, {"name": "UK"}) == "A SHIRT | UK-S-1012----------A shirt!"
