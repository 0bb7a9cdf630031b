"""Alert recipients on the settings page: saved per organization behind CSRF, the webhook's
path never shown again, bad addresses refused, and a test alert reaching a local SMTP server."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from bridge import alerts, stores
from tests.web.conftest import make_store, make_user

HOOK = "https://hooks.example.com/services/T1/B1/w3bh00ksecret"


class Inbox:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        from email import message_from_bytes

        self.subjects.append(str(message_from_bytes(envelope.content)["Subject"]))
        return "250 OK"


@pytest.fixture()
def shop(pm):  # type: ignore[no-untyped-def]
    org = stores.create_org("Acme")
    make_user("ann@acme.test", orgs=["Acme"])
    # needs_reconnect: the page asks the shop for no shipping providers (no platform call)
    return make_store(org.id, "fakechannel", "channel", "c1", "Acme TikTok", status="needs_reconnect")


def test_recipients_are_saved_masked_and_checked(shop, signed_in):
    ann = signed_in("ann@acme.test")
    url = f"/stores/{shop.id}/settings"
    assert 'id="alerts"' in ann.get(url).text
    assert ann.post(url, data={"action": "alerts", "alerts.emails": "ops@acme.test"}).status_code == 403  # no CSRF
    assert alerts.get_recipients(shop.org_id).emails == []
    ok = ann.form(url, {"action": "alerts", "alerts.emails": "ops@acme.test, boss@acme.test",
                        "alerts.webhook": HOOK})
    assert ok.status_code == 303 and ok.headers["location"].endswith("#alerts")
    got = alerts.get_recipients(shop.org_id)
    assert got.emails == ["ops@acme.test", "boss@acme.test"] and got.webhook_url == HOOK
    page = ann.get(url).text
    assert "ops@acme.test, boss@acme.test" in page and "https://hooks.example.com/…" in page
    assert "w3bh00ksecret" not in page
    ann.form(url, {"action": "alerts", "alerts.emails": "ops@acme.test"})  # webhook left blank: kept
    assert alerts.get_recipients(shop.org_id).webhook_url == HOOK
    bad = ann.form(url, {"action": "alerts", "alerts.emails": "ops at acme"})
    assert bad.status_code == 400 and "is not an e-mail address" in bad.text
    private = ann.form(url, {"action": "alerts", "alerts.emails": "", "alerts.webhook": "https://10.1.2.3/hook"})
    assert private.status_code == 400 and "10.1.2.3" in private.text
    ann.form(url, {"action": "alerts", "alerts.emails": "ops@acme.test", "alerts.no_webhook": "on"})
    assert alerts.get_recipients(shop.org_id).webhook_url is None


def test_a_test_alert_from_the_page(shop, signed_in, monkeypatch):
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for key, value in {"HOST": "127.0.0.1", "PORT": str(port), "STARTTLS": "false",
                           "FROM": "bridge@acme.test"}.items():
            monkeypatch.setenv(f"BRIDGE_SMTP_{key}", value)
        ann = signed_in("ann@acme.test")
        url = f"/stores/{shop.id}/settings"
        ann.form(url, {"action": "alerts", "alerts.emails": "ops@acme.test"})
        sent = ann.form(url, {"action": "alerts_test"}, follow_redirects=True)
        assert "email: sent to ops@acme.test." in sent.text
        assert inbox.subjects == ["[bridge] Acme: test alert"]
    finally:
        controller.stop()
