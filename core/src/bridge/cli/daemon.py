"""`bridge run` (the daemon), `bridge sandbox PLATFORM`, `bridge sync FLOW`."""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

import click

from bridge.cli.output import Progress, emit


def server_config(app: Any, host: str, port: int) -> Any:
    """uvicorn's settings for `bridge run`: uvicorn leaves logging to bridge (its errors, such as
    an exception in a request, go through bridge's handler: JSON lines with --log-format json)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", log_config=None,
                          timeout_graceful_shutdown=5)


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port of the admin pages (default 8765).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker threads.")
@click.option("--no-web", is_flag=True, help="Run the scheduler only, without the admin pages.")
@click.option("--scheduler", "queue", is_flag=True,
              help="Scale-out: queue due jobs for `bridge worker` processes instead of running "
                   "them (needs PostgreSQL, broker_url and redis_url; docs/scale-out.md).")
@click.option("--max-runtime", type=float, default=None, hidden=True)
def run(host: str | None, port: int | None, workers: int | None, no_web: bool, queue: bool,
        max_runtime: float | None) -> None:
    """Run the scheduler, the workers and the admin pages in one process.

    With --scheduler the jobs go to the workers' queue instead (one scheduler is active at a
    time; others stand by and serve the admin pages).

    SIGTERM and SIGINT stop it the same way: no new work, running jobs finish their item (or
    give their lease back), "bridge stopped", exit 0."""
    from bridge import config, db, heap
    from bridge.scheduler import Scheduler

    settings = config.load()  # invalid configuration stops the start with one line
    host = host or settings.host
    port = port or settings.port
    if not settings.public_url:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        config.set_runtime_public_url(f"http://{shown}:{port}")
    if queue:
        from bridge.celery_app import require_scale_out

        require_scale_out()  # PostgreSQL, a broker and Redis, or one line saying what to set
    db.get_engine()
    if queue:
        from bridge.queue_scheduler import QueueScheduler

        sched: Scheduler = QueueScheduler()
    else:
        sched = Scheduler(workers=workers or settings.workers)
    sched.recover()
    heap.freeze_startup()  # what the start built stays out of every full garbage collection
    if no_web:
        sched.install_signal_handlers()
        click.echo("bridge scheduler queueing jobs for the workers" if queue else
                   f"bridge scheduler running with {sched.workers} workers", err=True)
        sched.run_forever(max_runtime=max_runtime)
        click.echo("bridge stopped", err=True)
        return
    import uvicorn

    from bridge.web.app import create_app

    class Server(uvicorn.Server):
        """uvicorn without its own signal handling (it re-raises SIGTERM after shutting down,
        which ends the process with 143): bridge's handlers stop the scheduler and the server."""

        def install_signal_handlers(self) -> None:  # uvicorn < 0.29
            return None

        def capture_signals(self):  # type: ignore[no-untyped-def]  # uvicorn >= 0.29
            import contextlib

            return contextlib.nullcontext()

    app = create_app(scheduler=sched)
    server = Server(server_config(app, host, port))

    sched.install_signal_handlers(then=lambda: setattr(server, "should_exit", True))
    worker = threading.Thread(target=sched.run_forever, kwargs={"max_runtime": max_runtime},
                              name="bridge-scheduler", daemon=True)
    worker.start()
    if max_runtime is not None:
        threading.Thread(target=lambda: (worker.join(), setattr(server, "should_exit", True)),
                         daemon=True).start()
    click.echo(f"bridge running: admin pages at http://{host}:{port}/ "
               f"(public URL {config.public_url()})", err=True)
    server.run()
    sched.stop()
    worker.join(timeout=30)
    click.echo("bridge stopped", err=True)


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Tasks run at once (threads; default: the workers setting).")
@click.option("--name", default=None, help="Worker name (default: bridge@HOST-PID).")
def worker(concurrency: int | None, name: str | None) -> None:
    """Run a Celery worker: the flows' tasks queued by `bridge run --scheduler` (scale-out,
    docs/scale-out.md). Needs PostgreSQL, broker_url and redis_url. SIGTERM finishes the
    running tasks, then exits; a killed worker's tasks go to another worker."""
    import os
    import socket

    from bridge import celery_app, db, heap

    settings = celery_app.require_scale_out()
    db.get_engine()  # the schema is created or upgraded before any task
    app = celery_app.configure(settings)
    celery_app.warm_up()
    heap.freeze_startup()  # what the start built stays out of every full garbage collection
    app.worker_main(["worker", "--pool=threads", f"--concurrency={concurrency or settings.workers}",
                     "--loglevel=WARNING", "--without-gossip", "--without-mingle",
                     "-n", name or f"bridge@{socket.gethostname()}-{os.getpid()}"])


@click.command()
@click.argument("platform")
@click.option("--port", type=int, default=0, help="Port (default: a free one).")
@click.option("--seed", type=int, default=20, show_default=True, help="Products to seed.")
@click.option("--variants", type=int, default=3, show_default=True, help="Max variants per product.")
@click.option("--latency-ms", type=float, default=0.0, help="Added latency per request.")
@click.option("--option", "extra", multiple=True, metavar="KEY=VALUE",
              help="Platform-specific sandbox option (repeatable).")
def sandbox(platform: str, port: int, seed: int, variants: int, latency_ms: float,
            extra: tuple[str, ...]) -> None:
    """Serve the emulator of PLATFORM's API that its plugin provides, on 127.0.0.1; drive it with
    `bridge sandbox-ctl PLATFORM --url URL ...` (its control API is under /_sandbox)."""
    from bridge.plugins import get_manager
    from bridge.sandboxing import SandboxServer

    options: dict[str, object] = {"seed": seed, "variants": variants, "latency_ms": latency_ms}
    for item in extra:
        if "=" not in item:
            raise click.UsageError(f"--option takes KEY=VALUE, got '{item}'")
        k, v = item.split("=", 1)
        try:
            options[k] = json.loads(v)
        except json.JSONDecodeError:
            options[k] = v
    sb = get_manager().call(platform, "sandbox", options=options)
    server = SandboxServer(sb.app, port=port or None)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        settings = sb.base_url_setting(server.url)
        click.echo(f"{platform} sandbox at {server.url}")
        click.echo("connect with: " + json.dumps({"settings": settings, "credentials": sb.credentials(),
                                                  "app_settings": sb.app_settings()}))
        click.echo(f"control: bridge sandbox-ctl {platform} --url {server.url} --help", err=True)
        stop.wait()


@click.command()
@click.argument("flow", type=click.Choice(["products", "listings", "inventory", "orders", "tracking", "refunds",
                                           "all"]))
@click.option("--org", "org_ref", help="Organization (default: every organization).")
@click.option("--shop", "shop_id", type=int, help="Only this TikTok shop (store id).")
@click.option("--json", "as_json", is_flag=True)
def sync(flow: str, org_ref: str | None, shop_id: int | None, as_json: bool) -> None:
    """Run a flow now (what `bridge plan` showed).

    Without --org: every complete organization (an eCommerce store and a TikTok shop connected)
    is synced; the others are listed as skipped with the reason. One organization's failure does
    not stop the others. Exits 0 when every run handled its items (held ones are listed); 1 when
    a run failed as a whole. Refused credentials are judged as the daemon judges them. The
    flow's jobs that idle runs had stretched are brought back to their interval."""
    from bridge import db
    from bridge.errors import BridgeError, NeedsReconnect
    from bridge.rules import active_stores
    from bridge.scheduler import recover_dead_owners, reset_idle
    from bridge.statuses import RunStatus
    from bridge.stores import get_org, judge_auth_refusal, list_orgs
    from bridge.sync import run_flow

    recover_dead_owners()  # runs a killed sync left `running` are marked aborted first
    orgs = [get_org(org_ref)] if org_ref else list_orgs()
    flows = ["products", "listings", "inventory", "orders", "tracking", "refunds"] if flow == "all" else [flow]
    rows: list[dict[str, Any]] = []
    failed = False
    for org in orgs:
        if org_ref is None:
            with db.session() as s:
                missing = [what for kind, what in (("ecommerce", "no eCommerce store"),
                                                   ("channel", "no TikTok shop"))
                           if not active_stores(s, org.id, kind)]  # type: ignore[arg-type]
            if missing:
                rows.append({"org": org.name, "flow": flow, "run": None, "status": "skipped",
                             "counts": {}, "errors": [], "reason": " and ".join(missing) + " connected"})
                continue
        for f in flows:
            progress = Progress(f"{org.name} {f}")
            reset_idle(org.id, f, shop_id)  # type: ignore[arg-type]
            try:
                results = run_flow(f, org.id, shop_id, progress=progress)  # type: ignore[arg-type]
            except NeedsReconnect as exc:
                marked = judge_auth_refusal(exc)
                failed = True
                rows.append({"org": org.name, "flow": f, "run": None, "status": "failed", "counts": {},
                             "errors": [], "reason": str(exc) + (" (store marked needs_reconnect)"
                                                                 if marked else "")})
                continue
            except BridgeError as exc:
                if org_ref is not None and len(orgs) == 1 and len(flows) == 1:
                    raise
                failed = True
                rows.append({"org": org.name, "flow": f, "run": None, "status": "failed", "counts": {},
                             "errors": [], "reason": str(exc)})
                continue
            finally:
                progress.close()
            for r in results:
                failed |= r.status == RunStatus.FAILED
                rows.append({"org": org.name, "flow": f, "run": r.run_id, "status": r.status,
                             "counts": r.counts, "errors": [f"{i}: {m}" for i, m in r.errors],
                             "reason": ""})
    if as_json:
        emit(rows, [], True)
    else:
        if not rows:
            click.echo("no organizations: create one with `bridge org create NAME`", err=True)
        emit(rows, ["org", "flow", "run", "status", "counts", "reason"], False)
        for r in rows:
            for e in r["errors"]:
                click.echo(f"  {r['org']} {r['flow']} error: {e}", err=True)
    if failed:
        raise SystemExit(1)
