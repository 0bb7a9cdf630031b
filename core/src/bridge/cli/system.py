"""`bridge init`, `plugins`, `config`, `status`, `log`."""

from __future__ import annotations

from typing import Any

import click

from bridge.cli.output import emit


@click.command()
@click.option("--new-key", is_flag=True, help="Print a new credentials key (for BRIDGE_SECRET_KEY).")
def init(new_key: bool) -> None:
    """Create the database (or upgrade it) and the credentials key."""
    if new_key:
        from cryptography.fernet import Fernet

        click.echo(Fernet.generate_key().decode())
        return
    from bridge import crypto, db

    engine = db.get_engine()
    crypto.load_key(create=True)
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins: platform, distribution, kind, capabilities, status."""
    from bridge.plugins import get_manager

    pm = get_manager()
    rows = [p.as_dict() for p in sorted(pm.plugins.values(), key=lambda p: p.name)]
    if as_json:
        emit(rows, [], True)
        return
    for r in rows:
        r["capabilities"] = len(r["capabilities"])
        r["status"] = r["status"] if r["status"] == "ok" else f"error: {r['error']}"
    emit(rows, ["name", "distribution", "version", "kind", "capabilities", "status"], False)


@click.group("config")
def config_cmd() -> None:
    """Bridge-wide settings (environment BRIDGE_* over the config file)."""


def _mask(key: str, value: object) -> object:
    from bridge import config
    from bridge.masking import mask_value

    return mask_value(key, value, secret=config.is_secret(key))


@config_cmd.command("list")
@click.option("--json", "as_json", is_flag=True)
def config_list(as_json: bool) -> None:
    """Every setting with its value (secrets masked) and where it comes from."""
    from bridge import config

    rows = [{"key": k, "value": _mask(k, v), "source": src, "env": config.env_name(k)}
            for k, (v, src) in config.all_values().items()]
    emit(rows, ["key", "value", "source", "env"], as_json)


@config_cmd.command("get")
@click.argument("key")
@click.option("--reveal", is_flag=True, help="Show a secret's value.")
def config_get(key: str, reveal: bool) -> None:
    """Print one setting."""
    from bridge import config

    value = config.get(key)
    if value is None:
        raise click.ClickException(f"{key} is not set")
    click.echo(value if reveal else _mask(key, value))


@config_cmd.command("set")
@click.argument("key")
@click.argument("value", required=False)
def config_set(key: str, value: str | None) -> None:
    """Set a setting in the config file (a secret is prompted for when VALUE is left out).

    Unknown keys and values of the wrong form are refused (`bridge config list` shows the keys)."""
    from bridge import config

    if value is None:
        config.require_known(key)  # an unknown key is refused before the prompt
        value = click.prompt(key, hide_input=config.is_secret(key))
    config.set_value(key, config.check(key, value))
    click.echo(f"{key} set")


@config_cmd.command("unset")
@click.argument("key")
def config_unset(key: str) -> None:
    """Remove a setting from the config file."""
    from bridge import config

    click.echo(f"{key} removed" if config.unset(key) else f"{key} was not set")


@click.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Stores, their jobs and the latest runs."""
    from sqlmodel import col, select

    from bridge import db
    from bridge.tables import Job, Store, SyncRun

    with db.session() as s:
        stores = {st.id: st for st in s.exec(select(Store))}
        jobs = list(s.exec(select(Job).order_by(Job.key)))
        runs = list(s.exec(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(20)))
    from bridge.queue_scheduler import LEASE_KEY

    lease = next((j for j in jobs if j.key == LEASE_KEY), None)  # scale-out's active scheduler
    jobs = [j for j in jobs if j.key != LEASE_KEY]
    rows = [{
        "job": j.key, "flow": j.flow,
        "store": stores[j.channel_store_id].name if j.channel_store_id in stores else "",
        "paused": j.paused, "next_run": j.next_run_at, "interval": j.interval_s,
        # the wait now between runs: stretched while idle runs find nothing and webhooks are live
        "every": _every(j.interval_s, _wait(j)),
        "failures": j.failures, "last_error": j.last_error,
    } for j in jobs]
    workers = _workers()
    scheduler = _scheduler(lease) if workers is not None else None
    if as_json:
        emit([{"jobs": rows, "runs": [r.model_dump(mode="json") for r in runs],
               **({"workers": workers, "scheduler": scheduler} if workers is not None else {})}], [], True)
        return
    emit(rows, ["job", "store", "paused", "next_run", "every", "failures", "last_error"], False)
    click.echo("")
    if scheduler is not None:
        click.echo(f"scheduler: {scheduler['owner']}, lease until {scheduler['lease_until']}" if scheduler["active"]
                   else "scheduler: none active (start `bridge run --scheduler`)")
    if workers is not None:
        if workers:
            emit(workers, ["worker", "tasks", "holds"], False)
        else:
            click.echo("no worker answered (start `bridge worker`)")
        click.echo("")
    emit([r.model_dump() for r in runs],
         ["id", "flow", "status", "counts", "started_at", "error"], False)


def _scheduler(lease: Any) -> dict[str, Any]:
    """Scale-out's active scheduler (``bridge run --scheduler``) from its lease row: who holds it,
    until when (``active`` False when nobody does or the lease ran out)."""
    from bridge.tables import utcnow

    until = lease.lease_until if lease is not None else None
    if until is not None and until.tzinfo is None:  # SQLite gives naive UTC back
        until = until.replace(tzinfo=utcnow().tzinfo)
    active = bool(lease is not None and lease.lease_owner and until is not None and until > utcnow())
    return {"active": active, "owner": lease.lease_owner if active else None,
            "lease_until": until.isoformat(timespec="seconds") if active and until else None}


def _wait(job: Any) -> int:
    """The seconds a job waits between runs now: its interval, or, stretched by idle runs, what
    its last run scheduled (the cap depends on the pair's platforms: :func:`bridge.scheduler.idle_cap`)."""
    if not (job.payload or {}).get("idle") or job.last_run_at is None:
        return int(job.interval_s)
    return max(int(job.interval_s), round((job.next_run_at - job.last_run_at).total_seconds()))


def _every(interval: int, effective: int) -> str:
    """``60s``, or ``240s (idle, base 60s)`` while idle runs stretch the job's interval."""
    return f"{interval}s" if effective == interval else f"{effective}s (idle, base {interval}s)"


def _workers() -> list[dict[str, Any]] | None:
    """The scale-out's workers and what they run (None: no broker configured)."""
    from bridge import config

    if not config.load().broker_url:
        return None
    from bridge.errors import Misconfigured

    try:
        from bridge import celery_app

        celery_app.configure()
    except Misconfigured as exc:
        click.echo(f"workers unknown: {exc}", err=True)
        return []
    try:
        return celery_app.workers()
    except Exception as exc:  # noqa: BLE001 - the broker away: say so, show the rest
        click.echo(f"workers unknown: the broker did not answer ({type(exc).__name__})", err=True)
        return []


@click.command("log")
@click.option("--org", help="Organization name or id.")
@click.option("--store", "store_id", type=int)
@click.option("--flow")
@click.option("--kind", help="Event kind prefix, e.g. listing. or store.")
@click.option("--level", type=click.Choice(["info", "warning", "error"]))
@click.option("-n", "--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def log_cmd(org: str | None, store_id: int | None, flow: str | None, kind: str | None,
            level: str | None, limit: int, as_json: bool) -> None:
    """Read the journal, newest first."""
    from bridge import journal
    from bridge.stores import get_org

    org_id = get_org(org).id if org else None
    rows = [e.model_dump(mode="json") for e in journal.entries(
        org_id=org_id, store_id=store_id, flow=flow, kind=kind, level=level, limit=limit)]
    emit(rows, ["at", "level", "kind", "item", "message"], as_json)
