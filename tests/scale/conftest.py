"""Fixtures of the scale-out tests: a real Redis (BRIDGE_TEST_REDIS_URL) under a namespace of
the test's own, emptied afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture()
def redis_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """bridge's Redis is BRIDGE_TEST_REDIS_URL, its keys under a namespace of this test (the
    test is skipped when the variable is unset or the redis package is missing)."""
    url = os.environ.get("BRIDGE_TEST_REDIS_URL")
    if not url:
        pytest.skip("BRIDGE_TEST_REDIS_URL is not set: Redis tests skipped")
    redis = pytest.importorskip("redis", reason="bridge-core[scale] is not installed")
    namespace = f"bridge-t-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("BRIDGE_REDIS_URL", url)
    monkeypatch.setenv("BRIDGE_REDIS_NAMESPACE", namespace)
    yield url
    client = redis.Redis.from_url(url)
    # the keys of the namespace, and the queue named after it (a Redis broker's list, bindings)
    keys = [*client.scan_iter(f"{namespace}:*"), namespace, f"_kombu.binding.{namespace}"]
    if keys:
        client.delete(*keys)
    client.close()
