"""`bridge alerts ...`: who an organization's alerts go to, a test send, a check by hand."""

from __future__ import annotations

import click

from bridge.cli.output import emit


@click.group()
def alerts() -> None:
    """Alerts to a person (store to reconnect, authorization ending, held orders, failing flows,
    missing webhooks) by e-mail (smtp.* settings) and a Slack-compatible webhook."""


@alerts.command("set")
@click.option("--org", "org_ref", required=True, help="Organization (name or id).")
@click.option("--email", "emails", multiple=True,
              help="E-mail address (repeat, or comma-separated); replaces the addresses.")
@click.option("--no-email", is_flag=True, help="Send no e-mail alerts.")
@click.option("--webhook", default=None, help="Slack-compatible incoming webhook URL.")
@click.option("--no-webhook", is_flag=True, help="Remove the webhook.")
def alerts_set(org_ref: str, emails: tuple[str, ...], no_email: bool, webhook: str | None,
               no_webhook: bool) -> None:
    """Set where an organization's alerts go."""
    from bridge import alerts as alerting
    from bridge.errors import Misconfigured
    from bridge.stores import get_org

    if not (emails or no_email or webhook or no_webhook):
        raise Misconfigured("give --email ADDRESS, --webhook URL, --no-email or --no-webhook")
    org = get_org(org_ref)
    out = alerting.set_recipients(
        org.id,  # type: ignore[arg-type]
        emails=[] if no_email else (alerting.parse_emails(",".join(emails)) if emails else None),
        webhook_url=webhook, clear_webhook=no_webhook)
    shown = out.shown()
    click.echo(f"alerts of '{org.name}': e-mail {shown['emails']}; webhook {shown['webhook']}")


@alerts.command("show")
@click.option("--org", "org_ref", default=None, help="Organization (default: every one).")
@click.option("--json", "as_json", is_flag=True)
def alerts_show(org_ref: str | None, as_json: bool) -> None:
    """Recipients and the conditions that need a person now, per organization."""
    from sqlmodel import select

    from bridge import alerts as alerting
    from bridge import db
    from bridge.stores import get_org, list_orgs
    from bridge.tables import AlertState

    orgs = [get_org(org_ref)] if org_ref else list_orgs()
    rows = []
    for o in orgs:
        shown = alerting.get_recipients(o.id).shown()  # type: ignore[arg-type]
        with db.session() as s:
            states = list(s.exec(select(AlertState).where(AlertState.org_id == o.id,
                                                          AlertState.active == True)))  # noqa: E712
        rows.append({"org": o.name, "emails": shown["emails"], "webhook": shown["webhook"],
                     "active": len(states), "unsent": sum(1 for st in states if st.sent_at is None)})
    emit(rows, ["org", "emails", "webhook", "active", "unsent"], as_json)


@alerts.command("test")
@click.option("--org", "org_ref", required=True, help="Organization (name or id).")
def alerts_test(org_ref: str) -> None:
    """Send a test alert to the organization's recipients now (exit 1 if one failed)."""
    from bridge import alerts as alerting
    from bridge.stores import get_org

    org = get_org(org_ref)
    results = alerting.send_test(org.id)  # type: ignore[arg-type]
    for channel, outcome in results:
        click.echo(f"{channel}: {outcome}")
    if any(outcome.startswith("failed") for _, outcome in results):
        raise SystemExit(1)


@alerts.command("check")
def alerts_check() -> None:
    """Find what needs a person and send the alerts due now (`bridge run` does this every minute)."""
    from bridge import alerts as alerting

    r = alerting.check("bridge-cli")
    click.echo(f"{r.active} condition(s) need a person; {r.sent} alert(s) sent, {r.failed} failed "
               f"(tried again at the next check), {r.waiting} wait for the hourly cap, {r.cleared} cleared")
    if r.failed:
        raise SystemExit(1)
