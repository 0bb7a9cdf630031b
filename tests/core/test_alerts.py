"""Alerts to a person: each condition mailed through a local SMTP server, the Slack-compatible
webhook's JSON, deduplication until a condition clears, the hourly cap, failures retried, and a
scheduler that goes on when sending fails."""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import httpx
import pytest
import respx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import update
from sqlmodel import select

from bridge import alerts, db, journal, metrics, scheduler, stores, subscriptions
from bridge.errors import Transient
from bridge.models import StoreInfo
from bridge.sync import base as flows
from bridge.tables import AlertState, Event, Job, OrderLink, Store, TrackingPushRecord, utcnow

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

HOOK = "https://hooks.example.com/services/T000/B000/s3cr3tpath"
PASSWORD = "smtp-pa55word"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rcpts: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        self.rcpts.append(list(envelope.rcpt_tos))
        return "250 OK"

    @property
    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"bridge" \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture()
def smtp(monkeypatch):  # type: ignore[no-untyped-def]
    """A local SMTP server (login required, no TLS on loopback) and bridge's smtp.* settings."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticate,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    for key, value in {"HOST": "127.0.0.1", "PORT": str(port), "STARTTLS": "false", "USER": "bridge",
                       "PASSWORD": PASSWORD, "FROM": "bridge@example.com"}.items():
        monkeypatch.setenv(f"BRIDGE_SMTP_{key}", value)
    inbox.port = port  # type: ignore[attr-defined]
    yield inbox
    controller.stop()


@pytest.fixture()
def org(fake_pm):  # type: ignore[no-untyped-def]
    """An organization with a shop and a TikTok store, mailing ops@example.com."""
    o = stores.create_org("Acme")
    shop = stores.save_store(o, "fakeshop", StoreInfo(remote_id="s1", name="Acme shop", currency="GBP"), fake_pm)
    channel = stores.save_store(o, "fakechannel", StoreInfo(remote_id="c1", name="Acme TikTok", currency="GBP",
                                                            region="GB"), fake_pm)
    alerts.set_recipients(o.id, emails=["ops@example.com"])
    return o, shop, channel


def _set(store_id: int, **values) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        s.exec(update(Store).where(Store.id == store_id).values(**values))


def _held_order(channel: Store, *, hours: float = 2, order: str = "5781000001") -> OrderLink:
    with db.session() as s:
        link = OrderLink(channel_store_id=channel.id, channel_order_id=order, status="held",
                         message="SKU TEE-M unknown", updated_at=utcnow() - timedelta(hours=hours))
        s.add(link)
        s.flush()
        s.refresh(link)
        return link


def reconnect(o, shop, channel):  # type: ignore[no-untyped-def]
    _set(channel.id, status="needs_reconnect", status_message="token revoked by the seller")
    return "a store needs reconnecting", ["Acme TikTok", "token revoked by the seller"]


def auth_expiring(o, shop, channel):  # type: ignore[no-untyped-def]
    _set(channel.id, auth_expires_at=utcnow() + timedelta(days=5, hours=1))
    scheduler.check_auth_expiry()  # the expiry warning decides the threshold (7 days)
    return "a store's authorization ends soon", ["Acme TikTok", "ends in 5 day(s)", "reconnect"]


def held_orders(o, shop, channel):  # type: ignore[no-untyped-def]
    _held_order(channel)
    return "orders held", ["1 order(s) of 'Acme TikTok'", "more than 1 hour(s)", "5781000001"]


def held_tracking(o, shop, channel):  # type: ignore[no-untyped-def]
    link = _held_order(channel, hours=0)  # the order itself is fresh: only tracking alerts
    with db.session() as s:
        s.add(TrackingPushRecord(order_link_id=link.id, tracking_number="RM123456785GB", status="held",
                                 updated_at=utcnow() - timedelta(hours=3)))
    return "tracking numbers held", ["RM123456785GB", "carrier mapping"]


def flow_failing(o, shop, channel):  # type: ignore[no-untyped-def]
    with db.session() as s:
        s.add(Job(key=f"orders:{channel.id}", flow="orders", org_id=o.id, channel_store_id=channel.id,
                  failures=5, last_error="fakechannel: cannot reach 127.0.0.1:9"))
    return "a flow keeps failing", ["orders flow for 'Acme TikTok' failed 5 times", "127.0.0.1:9"]


def webhooks_missing(o, shop, channel):  # type: ignore[no-untyped-def]
    subscriptions._record(shop, subscriptions.Report(shop.id, "webhooks", address="https://b.example/webhooks/x",
                                                     missing=["products/update"]))
    return "webhook subscriptions missing", ["Acme shop", "products/update", "bridge doctor"]


@pytest.mark.parametrize("condition", [reconnect, auth_expiring, held_orders, held_tracking,
                                       flow_failing, webhooks_missing])
def test_each_condition_is_mailed_once(smtp, org, condition):
    title, words = condition(*org)
    before = metrics.value("bridge_alerts_sent_total", channel="email")
    result = alerts.check()
    assert (result.active, result.sent, result.failed) == (1, 1, 0)
    [msg] = smtp.messages
    assert msg["Subject"] == f"[bridge] Acme: {title}"
    assert msg["From"] == "bridge@example.com" and smtp.rcpts == [["ops@example.com"]]
    body = msg.get_payload(decode=True).decode()
    for word in words:
        assert word in body
    assert metrics.value("bridge_alerts_sent_total", channel="email") == before + 1
    [entry] = journal.entries(kind="alert.sent")
    assert entry.org_id == org[0].id and entry.data["channel"] == "email"
    assert alerts.check().sent == 0 and len(smtp.messages) == 1  # once while it lasts


def test_the_webhook_gets_slack_json_and_its_path_stays_secret(org, caplog):
    o, shop, channel = org
    alerts.set_recipients(o.id, emails=[], webhook_url=HOOK)
    reconnect(o, shop, channel)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(HOOK).mock(return_value=httpx.Response(200, text="ok"))
        assert alerts.check().sent == 1
    body = json.loads(route.calls.last.request.content)
    assert list(body) == ["text"]
    assert body["text"].startswith("[bridge] Acme: a store needs reconnecting\n")
    assert "Acme TikTok" in body["text"]
    [entry] = journal.entries(kind="alert.sent")
    assert entry.data == {"channel": "webhook", "kind": "reconnect", "to": "https://hooks.example.com/…"}
    assert "s3cr3tpath" not in json.dumps([e.model_dump(mode="json") for e in journal.entries()])
    assert "s3cr3tpath" not in caplog.text


def test_an_alert_is_sent_again_only_after_it_cleared(smtp, org):
    o, shop, channel = org
    reconnect(o, shop, channel)
    assert alerts.check().sent == 1
    assert alerts.check().sent == 0
    _set(channel.id, status="active", status_message=None)  # reconnected
    assert alerts.check().cleared == 1
    assert alerts.check().sent == 0 and len(smtp.messages) == 1
    reconnect(o, shop, channel)  # refused again: a new occurrence
    assert alerts.check().sent == 1
    assert len(smtp.messages) == 2
    assert [e.kind for e in journal.entries(kind="alert.")][:3] == ["alert.sent", "alert.cleared", "alert.sent"]


def test_each_expiry_threshold_alerts_once(smtp, org):
    o, shop, channel = org
    auth_expiring(o, shop, channel)  # 5 days left: the 30 and 7 day thresholds crossed at once
    assert alerts.check().sent == 1
    scheduler.check_auth_expiry()
    assert alerts.check().sent == 0
    _set(channel.id, auth_expires_at=utcnow() + timedelta(hours=20))
    scheduler.check_auth_expiry()  # the 1-day threshold: a new alert
    assert alerts.check().sent == 1
    assert ["ends in 5 day(s)" in (m.get_payload(decode=True).decode()) for m in smtp.messages] == [True, False]
    assert "ends in 0 day(s)" in smtp.messages[1].get_payload(decode=True).decode()


def test_held_for_less_than_the_setting_is_no_alert(smtp, org, monkeypatch):
    o, shop, channel = org
    _held_order(channel, hours=0.5)
    assert alerts.check().active == 0
    monkeypatch.setenv("BRIDGE_ALERTS_HELD_AFTER", "900")
    assert alerts.check().sent == 1
    assert "more than 15 minute(s)" in smtp.messages[0].get_payload(decode=True).decode()


def test_the_hourly_cap_holds_alerts_back_until_the_hour_passed(smtp, org, monkeypatch):
    o, shop, channel = org
    monkeypatch.setenv("BRIDGE_ALERTS_PER_HOUR", "2")
    with db.session() as s:
        for i in range(3):
            s.add(Job(key=f"flow{i}", flow=f"flow{i}", org_id=o.id, failures=9, last_error="boom"))
    first = alerts.check()
    assert (first.sent, first.waiting) == (2, 1)
    assert alerts.check().sent == 0 and len(smtp.messages) == 2
    with db.session() as s:  # an hour later
        s.exec(update(Event).where(Event.kind == "alert.sent").values(at=utcnow() - timedelta(minutes=61)))
    later = alerts.check()
    assert (later.sent, later.waiting) == (1, 0)
    assert sorted(m["Subject"] for m in smtp.messages) == ["[bridge] Acme: a flow keeps failing"] * 3


def test_a_failed_send_is_logged_without_secrets_and_retried(smtp, org, monkeypatch, caplog):
    o, shop, channel = org
    alerts.set_recipients(o.id, webhook_url=HOOK)
    reconnect(o, shop, channel)
    dead = _free_port()
    monkeypatch.setenv("BRIDGE_SMTP_PORT", str(dead))
    caplog.set_level(logging.WARNING, logger="bridge.alerts")
    with respx.mock() as mock:
        hook = mock.post(HOOK).mock(side_effect=[httpx.Response(500), httpx.Response(200)])
        r = alerts.check()
        assert (r.sent, r.failed) == (0, 2)
        assert f"127.0.0.1:{dead}" in caplog.text
        assert PASSWORD not in caplog.text and "s3cr3tpath" not in caplog.text
        with db.session() as s:
            st = s.exec(select(AlertState)).one()
        assert st.sent_at is None and st.attempts == 1 and "answered 500" in (st.last_error or "")
        monkeypatch.setenv("BRIDGE_SMTP_PORT", str(smtp.port))
        r = alerts.check()
        assert (r.sent, r.failed) == (2, 0)
        assert hook.call_count == 2
        assert alerts.check().sent == 0 and hook.call_count == 2
    assert len(smtp.messages) == 1
    assert metrics.value("bridge_alert_failures_total", channel="email") >= 1


def test_one_channel_delivered_is_not_sent_twice(smtp, org):
    o, shop, channel = org
    alerts.set_recipients(o.id, webhook_url=HOOK)
    reconnect(o, shop, channel)
    with respx.mock() as mock:
        hook = mock.post(HOOK).mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(204)])
        assert (alerts.check().sent, len(smtp.messages)) == (1, 1)  # e-mail went, webhook failed
        assert alerts.check().sent == 1  # the webhook only
        assert hook.call_count == 2
    assert len(smtp.messages) == 1


def test_a_wrong_smtp_password_says_what_to_check(smtp, org, monkeypatch):
    o, shop, channel = org
    monkeypatch.setenv("BRIDGE_SMTP_PASSWORD", "not-it")
    reconnect(o, shop, channel)
    assert alerts.check().failed == 1
    with db.session() as s:
        st = s.exec(select(AlertState)).one()
    assert "refused the login" in (st.last_error or "") and "smtp.password" in (st.last_error or "")
    assert "not-it" not in (st.last_error or "")


def test_nobody_to_tell_keeps_the_alert_until_recipients_are_set(smtp, org):
    o, shop, channel = org
    alerts.set_recipients(o.id, emails=[])
    reconnect(o, shop, channel)
    assert alerts.check().sent == 0
    alerts.set_recipients(o.id, emails=["ops@example.com", "boss@example.com"])
    assert alerts.check().sent == 1
    assert smtp.rcpts == [["ops@example.com", "boss@example.com"]]


def test_recipients_are_checked():
    from bridge.errors import Misconfigured

    with pytest.raises(Misconfigured, match="'ops' is not an e-mail address"):
        alerts.parse_emails("a@example.com, ops")
    with pytest.raises(Misconfigured, match="http"):
        alerts.set_recipients(1, webhook_url="ftp://x.example/hook")
    with pytest.raises(Misconfigured, match="169.254.169.254"):
        alerts.set_recipients(1, webhook_url="http://169.254.169.254/latest")


def test_test_alert_reaches_both_channels(smtp, org):
    o, _, _ = org
    alerts.set_recipients(o.id, webhook_url=HOOK)
    with respx.mock() as mock:
        mock.post(HOOK).mock(return_value=httpx.Response(200))
        out = dict(alerts.send_test(o.id))
    assert out == {"email": "sent to ops@example.com", "webhook": "sent to https://hooks.example.com/…"}
    assert smtp.subjects == ["[bridge] Acme: test alert"]
    assert list(journal.entries(kind="alert.sent")) == []  # a test counts against no cap


def test_a_dead_smtp_server_never_stops_the_scheduler(fake_pm, org, monkeypatch, caplog):
    o, shop, channel = org
    monkeypatch.setenv("BRIDGE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BRIDGE_SMTP_PORT", str(_free_port()))
    monkeypatch.setenv("BRIDGE_SMTP_FROM", "bridge@example.com")
    monkeypatch.setenv("BRIDGE_ALERTS_FAILURES", "2")
    runs: list[int] = []

    def failing(ctx):  # type: ignore[no-untyped-def]
        runs.append(ctx.org_id)
        raise Transient("store down")

    monkeypatch.setattr(flows, "BUILTIN_FLOW_MODULES", ())
    monkeypatch.setattr(flows, "FLOWS", {})
    flows.register_flow("probe", failing, interval_key="interval.probe", per_channel=False)
    monkeypatch.setattr(alerts, "check", _exploding_after(alerts.check))
    sched = scheduler.Scheduler(workers=1, pm=fake_pm)
    caplog.set_level(logging.WARNING)
    for _ in range(4):
        sched._last_alerts = None  # an alert check at every step
        sched.step()
        _wait(lambda: not sched.running and not (sched.alerts_thread and sched.alerts_thread.is_alive()))
        with db.session() as s:
            s.exec(update(Job).values(next_run_at=utcnow()))
    sched.shutdown()
    assert len(runs) == 4  # every step still ran the job
    with db.session() as s:
        st = s.exec(select(AlertState).where(AlertState.kind == "flow_failing")).one()
    assert st.sent_at is None and st.attempts >= 1  # not sent: retried at the next check
    assert "cannot send e-mail through 127.0.0.1" in caplog.text
    assert "the alert check failed" in caplog.text  # a bug in a check is logged, not raised


def _exploding_after(real):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def check(owner: str = "bridge"):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("a bug in the check")
        return real(owner)

    return check


def _wait(cond, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_cli_sets_shows_and_tests_recipients(smtp, org, capsys):
    from bridge.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    code, out, _ = run("alerts", "set", "--org", "Acme", "--email", "a@example.com,b@example.com",
                       "--webhook", HOOK)
    assert code == 0
    assert out.strip() == ("alerts of 'Acme': e-mail a@example.com, b@example.com; webhook "
                           "https://hooks.example.com/…")
    code, out, _ = run("alerts", "show", "--json")
    assert json.loads(out) == [{"org": "Acme", "emails": "a@example.com, b@example.com",
                                "webhook": "https://hooks.example.com/…", "active": 0, "unsent": 0}]
    code, _, err = run("alerts", "set", "--org", "Acme", "--email", "nope")
    assert code == 1 and err.strip() == "error: 'nope' is not an e-mail address (expected name@example.com)"
    with respx.mock() as mock:
        mock.post(HOOK).mock(return_value=httpx.Response(410))
        code, out, _ = run("alerts", "test", "--org", "Acme")
    assert code == 1
    assert out.splitlines() == ["email: sent to a@example.com, b@example.com",
                                "webhook: failed: alert webhook https://hooks.example.com/… answered 410: "
                                "check the URL (a revoked Slack webhook answers 404 or 410)"]
    assert len(smtp.messages) == 1
    code, out, _ = run("alerts", "set", "--org", "Acme", "--no-webhook")
    reconnect(*org)
    code, out, _ = run("alerts", "check")
    assert code == 0 and out.startswith("1 condition(s) need a person; 1 alert(s) sent, 0 failed")


def test_a_reconnect_with_a_new_end_is_warned_about_afresh(fake_pm):
    o = stores.create_org("Acme")
    info = StoreInfo(remote_id="c1", name="Acme TikTok", currency="GBP", region="GB",
                     auth_expires_at=utcnow() + timedelta(days=5))
    st = stores.save_store(o, "fakechannel", info, fake_pm)
    scheduler.check_auth_expiry()
    assert stores.get_store(st.id).details["auth_warned"] == [7, 30]
    stores.save_store(o, "fakechannel", info, fake_pm)  # same end: thresholds stay spent
    assert stores.get_store(st.id).details["auth_warned"] == [7, 30]
    info.auth_expires_at = utcnow() + timedelta(days=365)  # renewed
    stores.save_store(o, "fakechannel", info, fake_pm)
    assert "auth_warned" not in stores.get_store(st.id).details
    _set(st.id, auth_expires_at=utcnow() + timedelta(days=6))
    scheduler.check_auth_expiry()  # a year on: warned again
    assert [e.data["days"] for e in journal.entries(kind="store.auth_expiring")] == [7, 7]


def test_an_organization_with_alert_state_can_be_deleted(smtp, fake_pm):
    o = stores.create_org("Gone")
    alerts.set_recipients(o.id, emails=["ops@example.com"])
    with db.session() as s:
        s.add(AlertState(org_id=o.id, key="flow_failing:x", kind="flow_failing"))
    stores.delete_org("Gone")
    assert alerts.get_recipients(o.id).emails == []
    with db.session() as s:
        assert s.exec(select(AlertState)).all() == []
