"""Alerts to a person: per-organization recipients, deduplication, a rate limit, sending.

``bridge run`` calls :func:`check` about once a minute in a thread of its own (never in a flow:
a slow SMTP server delays no job). Each check

1. finds the conditions that hold now (:mod:`bridge.alert_conditions`) and records them in
   ``alert_states``: a new one is to send; one already sent is not sent again while it lasts;
   one that no longer holds is cleared, so it is sent again if it comes back;
2. sends what is still to send to the organization's recipients (e-mail addresses and a
   Slack-compatible webhook, :mod:`bridge.alert_channels`), at most ``alerts.per_hour`` alerts
   per organization per hour (the rest wait for a later check);
3. journals ``alert.sent`` per alert and channel delivered, and counts ``bridge_alerts_sent``.
   A channel that fails is logged (no secret) and tried again at the next check; a channel that
   had the alert does not get it twice.

Two processes on one database never send the same alert: each claims a state row first (a
conditional UPDATE, as jobs are claimed).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import distinct, func, or_, update
from sqlmodel import col, select

from bridge import alert_channels, alert_conditions, config, db, journal, metrics
from bridge.errors import Misconfigured
from bridge.tables import AlertRecipients, AlertState, Event, Organization, utcnow

log = logging.getLogger("bridge.alerts")

#: Seconds between checks in ``bridge run``.
CHECK_EVERY = 60.0
#: How long a process holds an alert it is sending.
CLAIM_SECONDS = 120
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


@dataclass
class Recipients:
    """Where an organization's alerts go."""

    emails: list[str] = field(default_factory=list)
    webhook_url: str | None = None

    @property
    def channels(self) -> list[str]:
        return [c for c, on in (("email", bool(self.emails)), ("webhook", bool(self.webhook_url))) if on]

    def shown(self) -> dict[str, str]:
        """For pages and the CLI: the webhook's path (its secret) hidden."""
        return {"emails": ", ".join(self.emails) or "-",
                "webhook": alert_channels.webhook_host(self.webhook_url) if self.webhook_url else "-"}


@dataclass
class CheckResult:
    """What one :func:`check` did."""

    active: int = 0
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    """Held back by the hourly cap."""
    cleared: int = 0


# --------------------------------------------------------------------------- recipients


def get_recipients(org_id: int) -> Recipients:
    with db.session() as s:
        row = s.get(AlertRecipients, org_id)
    return Recipients(list(row.emails or []), row.webhook_url) if row else Recipients()


def parse_emails(raw: str | list[str]) -> list[str]:
    """Addresses from a comma- or space-separated text.

    :raises Misconfigured: one that is not an e-mail address (named).
    """
    items = raw if isinstance(raw, list) else re.split(r"[\s,;]+", raw)
    out: list[str] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        if not EMAIL.match(item):
            raise Misconfigured(f"'{item[:60]}' is not an e-mail address (expected name@example.com)")
        if item not in out:
            out.append(item)
    return out


def set_recipients(org_id: int, *, emails: list[str] | None = None, webhook_url: str | None = None,
                   clear_webhook: bool = False) -> Recipients:
    """Change an organization's recipients (``None`` keeps a value; ``[]`` removes the e-mails).

    :raises Misconfigured: a bad address or a webhook URL the outbound policy refuses.
    """
    emails = parse_emails(emails) if emails is not None else None
    url = alert_channels.check_webhook_url(webhook_url) if webhook_url else None
    with db.session() as s:
        row = s.get(AlertRecipients, org_id) or AlertRecipients(org_id=org_id)
        if emails is not None:
            row.emails = emails
        if url:
            row.webhook_url = url
        elif clear_webhook:
            row.webhook_url = None
        row.updated_at = utcnow()
        s.add(row)
        out = Recipients(list(row.emails or []), row.webhook_url)
    journal.record("alert.recipients", f"alert recipients set: {out.shown()['emails']}; webhook "
                   f"{out.shown()['webhook']}", org_id=org_id)
    return out


# --------------------------------------------------------------------------- the check


def check(owner: str = "bridge") -> CheckResult:
    """Record the conditions that hold now and send what is due (see the module)."""
    result = CheckResult()
    found = {(c.org_id, c.key): c for c in alert_conditions.current()}
    result.active = len(found)
    _record_states(found, result)
    with db.session() as s:
        pending = list(s.exec(select(AlertState).where(AlertState.active == True,  # noqa: E712
                                                       AlertState.sent_at == None)  # noqa: E711
                              .order_by(col(AlertState.first_seen), col(AlertState.id))))
        names = {o.id: o.name for o in s.exec(select(Organization))}
    by_org: dict[int, list[AlertState]] = {}
    for st in pending:
        by_org.setdefault(st.org_id, []).append(st)
    cap = int(config.get("alerts.per_hour"))
    for org_id, states in by_org.items():
        recipients = get_recipients(org_id)
        if not recipients.channels:
            continue  # nobody to tell yet: sent once recipients are set
        room = max(0, cap - sent_last_hour(org_id))
        if len(states) > room:
            result.waiting += len(states) - room
            log.warning("organization %s: %d alert(s) wait: at most %d are sent per hour",
                        org_id, len(states) - room, cap)
        for st in states[:room]:
            if _claim(st, owner):
                _send(st, recipients, names.get(org_id, str(org_id)), owner, result)
    return result


def check_quietly(owner: str = "bridge") -> CheckResult | None:
    """:func:`check`, with any error logged instead of raised (the daemon's thread)."""
    try:
        return check(owner)
    except Exception:  # noqa: BLE001 - alerts must never stop the daemon
        log.exception("the alert check failed; tried again at the next check")
        return None


def sent_last_hour(org_id: int) -> int:
    """Alerts (not channel deliveries) sent to an organization in the last hour."""
    since = utcnow() - timedelta(hours=1)
    with db.session() as s:
        return int(s.exec(select(func.count(distinct(Event.item))).where(
            Event.kind == "alert.sent", Event.org_id == org_id, Event.at >= since)).one())


def _record_states(found: dict[tuple[int, str], alert_conditions.Condition], result: CheckResult) -> None:
    now = utcnow()
    with db.session() as s:
        states = {(st.org_id, st.key): st for st in s.exec(select(AlertState))}
        new = []
        for k, c in found.items():
            st = states.get(k)
            if st is None:
                new.append(AlertState(org_id=c.org_id, key=c.key, kind=c.kind, store_id=c.store_id,
                                      message=c.message).model_dump(exclude={"id"}))
            elif not st.active:  # it came back: alerted again
                st.active, st.sent_to, st.sent_at, st.attempts, st.last_error = True, [], None, 0, None
                st.first_seen, st.cleared_at, st.message = now, None, c.message
                s.add(st)
            elif st.sent_at is None and st.message != c.message:
                st.message = c.message  # not sent yet: send the latest words
                s.add(st)
        for k, st in states.items():
            if st.active and k not in found:
                st.active, st.cleared_at = False, now
                s.add(st)
                result.cleared += 1
                if st.sent_at is not None:
                    journal.record("alert.cleared", f"no longer needs a person: {st.message}",
                                   org_id=st.org_id, store_id=st.store_id, item=st.key, session=s)
        db.insert_missing(s, AlertState, new, keys=("org_id", "key"))


def _claim(st: AlertState, owner: str) -> bool:
    now = utcnow()
    with db.session() as s:
        res = s.exec(update(AlertState)  # type: ignore[call-overload]
                     .where(col(AlertState.id) == st.id, col(AlertState.sent_at).is_(None),
                            or_(col(AlertState.claimed_until).is_(None), col(AlertState.claimed_until) < now))
                     .values(claimed_by=owner, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)))
        return bool(res.rowcount == 1)


def _send(st: AlertState, recipients: Recipients, org_name: str, owner: str, result: CheckResult) -> None:
    subject = f"[bridge] {org_name}: {_TITLES.get(st.kind, st.kind)}"
    body = (f"{st.message}\n\nOrganization: {org_name}\nSince: {st.first_seen:%Y-%m-%d %H:%M} UTC\n\n"
            "bridge sends this once while it lasts, and again if it clears and comes back.\n")
    done = list(st.sent_to or [])
    error = None
    for channel in recipients.channels:
        if channel in done:
            continue
        try:
            if channel == "email":
                alert_channels.send_email(recipients.emails, subject, body)
            else:
                alert_channels.send_webhook(str(recipients.webhook_url), f"{subject}\n{st.message}")
        except alert_channels.SendFailed as exc:
            error = str(exc)
            result.failed += 1
            metrics.inc("bridge_alert_failures_total", channel=channel)
            log.warning("alert %s of organization %s not sent by %s: %s", st.key, st.org_id, channel, exc)
            continue
        done.append(channel)
        result.sent += 1
        metrics.inc("bridge_alerts_sent_total", kind=st.kind, channel=channel)
        journal.record("alert.sent", f"alert sent by {channel}: {st.message}", org_id=st.org_id,
                       store_id=st.store_id, item=st.key, level="warning",
                       data={"channel": channel, "kind": st.kind,
                             "to": recipients.shown()["emails" if channel == "email" else "webhook"]})
    complete = all(c in done for c in recipients.channels)
    with db.session() as s:
        s.exec(update(AlertState).where(col(AlertState.id) == st.id,  # type: ignore[call-overload]
                                        col(AlertState.claimed_by) == owner)
               .values(sent_to=done, sent_at=utcnow() if complete else None, last_error=error,
                       attempts=st.attempts + (0 if complete else 1), claimed_by=None, claimed_until=None))


_TITLES = {
    "reconnect": "a store needs reconnecting",
    "auth_expiring": "a store's authorization ends soon",
    "held_orders": "orders held",
    "held_tracking": "tracking numbers held",
    "flow_failing": "a flow keeps failing",
    "webhooks_missing": "webhook subscriptions missing",
}


def send_test(org_id: int) -> list[tuple[str, str]]:
    """Send a test alert to every recipient now; returns (channel, outcome) per channel.

    :raises Misconfigured: the organization has no recipients.
    """
    recipients = get_recipients(org_id)
    if not recipients.channels:
        raise Misconfigured("this organization has no alert recipients: `bridge alerts set --org ORG "
                            "--email you@example.com` (or --webhook URL)")
    with db.session() as s:
        org = s.get(Organization, org_id)
    name = org.name if org else str(org_id)
    text = f"Test alert from bridge for organization '{name}': alerts reach you here."
    out = []
    for channel in recipients.channels:
        try:
            if channel == "email":
                alert_channels.send_email(recipients.emails, f"[bridge] {name}: test alert", text + "\n")
            else:
                alert_channels.send_webhook(str(recipients.webhook_url), text)
        except alert_channels.SendFailed as exc:
            out.append((channel, f"failed: {exc}"))
            continue
        out.append((channel, "sent to " + recipients.shown()["emails" if channel == "email" else "webhook"]))
        journal.record("alert.test", f"test alert sent by {channel}", org_id=org_id, data={"channel": channel})
    return out
