"""Every GraphQL document the plugin sends validates against the official Admin schema."""

from __future__ import annotations

import hashlib

import pytest
from graphql import parse, validate

from bridge.errors import Rejected
from bridge_shopify import queries
from bridge_shopify.client import ShopifyClient
from bridge_shopify.sandbox.schema import SCHEMA_FILE, schema


def test_vendored_schema_is_shopifys_file() -> None:
    digest = hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()
    assert digest == "1057c5bca68fafa831bad094d0c42a236eebc255d74347eca8f9d2670ff60608"


def test_documents_are_collected() -> None:
    assert {"PRODUCTS", "ORDER_CREATE", "BULK_PRODUCTS", "FULFILLMENTS", "WEBHOOK_CREATE"} <= set(
        queries.DOCUMENTS)


@pytest.mark.parametrize("name", sorted(queries.DOCUMENTS))
def test_document_validates_against_admin_schema(name: str) -> None:
    errors = validate(schema(), parse(queries.DOCUMENTS[name]))
    assert errors == [], f"{name}: {[e.message for e in errors]}"


def test_an_invalid_document_is_refused_by_the_sandbox(served, conn) -> None:
    with pytest.raises(Rejected) as err:
        ShopifyClient(conn).execute("Bad", "query Bad { shop { noSuchField } }")
    assert err.value.code == "GRAPHQL_VALIDATION_FAILED"
    assert "noSuchField" in err.value.message
