"""/metrics: every family declared before anything ran; state gauges read from the database."""

from __future__ import annotations

from bridge import metrics

FAMILIES = ("bridge_runs_total", "bridge_items_total", "bridge_errors_total", "bridge_api_calls_total",
            "bridge_api_errors_total", "bridge_api_retries_total", "bridge_rate_limit_waits_total",
            "bridge_rate_limit_wait_seconds_total", "bridge_webhooks_total", "bridge_held_orders",
            "bridge_held_tracking", "bridge_seconds_since_success")


def test_every_family_has_help_and_type_from_the_start():
    text = metrics.render()
    for name in FAMILIES:
        base = name.removesuffix("_total")
        assert f"# HELP {base}" in text, name
        assert f"# TYPE {base}" in text, name
    assert "bridge_held_orders 0.0" in text and "bridge_held_tracking 0.0" in text


def test_counters_keep_their_labels():
    before = metrics.value("bridge_api_calls_total", platform="probe", status="429")
    metrics.inc("bridge_api_calls_total", platform="probe", status="429")
    metrics.inc("bridge_webhooks_total", platform="probe", outcome="accepted", topic="orders/create")
    assert metrics.value("bridge_api_calls_total", platform="probe", status="429") == before + 1
    assert metrics.value("bridge_webhooks_total", platform="probe", topic="orders/create") >= 1
    text = metrics.render()
    assert 'bridge_api_calls_total{platform="probe",status="429"}' in text
    assert 'bridge_webhooks_total{outcome="accepted",platform="probe",topic="orders/create"}' in text


def test_lag_since_the_last_successful_run(fake_pair):
    from bridge.sync import run_flow

    run_flow("inventory", fake_pair.org.id, pm=fake_pair.pm)
    assert 'bridge_seconds_since_success{flow="inventory"}' in metrics.render()
