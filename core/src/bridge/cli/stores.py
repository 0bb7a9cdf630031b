"""`bridge connect PLATFORM`, `disconnect`, `stores`, `doctor`."""

from __future__ import annotations

import sys
from typing import Any

import click

from bridge.cli.output import emit


def secret_env(platform: str, name: str) -> str:
    return f"BRIDGE_CONNECT_{platform.upper()}_{name.upper()}"


class ConnectGroup(click.Group):
    """One sub-command per installed platform, with the options its settings declare."""

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[no-untyped-def]
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from bridge.plugins import get_manager

            raise click.UsageError(get_manager().missing_platform(name), ctx)
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        from bridge.plugins import get_manager

        return [p.name for p in get_manager().platforms()]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from bridge.plugins import get_manager

        pm = get_manager()
        plugin = pm.platform_plugin(name, strict=False)
        if plugin is None or plugin.platform is None:
            return None
        info = plugin.platform
        params: list[click.Parameter] = [
            click.Option(["--org"], required=True, help="Organization name or id."),
            click.Option(["--base-url"], help="Point at another API host (a sandbox)."),
            click.Option(["--json", "as_json"], is_flag=True, help="Output JSON."),
        ]
        for st in info.settings:
            opt = "--" + st.name.replace("_", "-")
            kw: dict[str, Any] = {"help": st.help + (" [secret]" if st.secret else ""),
                                  "default": st.default}
            if st.type == "int":
                kw["type"] = int
            elif st.type == "bool":
                kw["type"] = bool
            elif st.type == "choice" and st.choices:
                kw["type"] = click.Choice(st.choices)
            if st.secret:
                kw["envvar"] = secret_env(name, st.name)
                kw["show_envvar"] = True
            params.append(click.Option([opt, st.name], **kw))

        def callback(org: str, base_url: str | None, as_json: bool, **values: Any) -> None:
            from bridge.stores import connect_store

            settings: dict[str, Any] = {}
            credentials: dict[str, Any] = {}
            for st in info.settings:
                value = values.get(st.name)
                if value in (None, "") and st.required:
                    if st.secret and sys.stdin.isatty():
                        value = click.prompt(st.name, hide_input=True)
                    else:
                        raise click.UsageError(
                            f"--{st.name.replace('_', '-')} is required"
                            + (f" (or set {secret_env(name, st.name)})" if st.secret else "")
                        )
                if value in (None, ""):
                    continue
                (credentials if st.secret else settings)[st.name] = value
            if base_url:
                settings["base_url"] = base_url
            store = connect_store(org, name, settings, credentials, pm)
            row = {"id": store.id, "platform": name, "name": store.name, "remote_id": store.remote_id,
                   "currency": store.currency, "region": store.region, "status": store.status}
            if as_json:
                emit([row], [], True)
            else:
                from bridge.stores import was_reconnect

                verb = "reconnected" if was_reconnect(store) else "connected"
                click.echo(f"{verb} {info.display_name} store '{store.name}' as store {store.id} "
                           f"({store.currency}{', ' + store.region if store.region else ''})")
                for w in (store.details or {}).get("warnings", []) or []:
                    click.echo(f"warning: {w}", err=True)

        return click.Command(name, params=params, callback=callback,
                             help=f"Connect a {info.display_name} store with given credentials.")


@click.group(cls=ConnectGroup)
def connect() -> None:
    """Connect a store with given credentials (OAuth flows are in the admin pages)."""


@click.command()
@click.argument("store")
@click.option("--purge", is_flag=True, help="Also delete its links and history.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def disconnect(store: str, purge: bool, yes: bool) -> None:
    """Stop a store's sync and delete its credentials (links and history stay unless --purge)."""
    from bridge.stores import disconnect as do_disconnect
    from bridge.stores import get_store

    st = get_store(store)
    if purge and not yes:
        click.confirm(f"purge store '{st.name}' with all its links and history? This cannot be undone",
                      abort=True)
    do_disconnect(st.id, purge=purge)  # type: ignore[arg-type]
    click.echo(f"store {st.id} '{st.name}' {'purged' if purge else 'disconnected'}")


@click.command()
@click.option("--org", help="Organization name or id.")
@click.option("--all", "show_all", is_flag=True, help="Include disconnected stores.")
@click.option("--json", "as_json", is_flag=True)
def stores(org: str | None, show_all: bool, as_json: bool) -> None:
    """List stores."""
    from bridge.stores import get_org, list_stores

    org_id = get_org(org).id if org else None
    rows = [{
        "id": s.id, "org_id": s.org_id, "platform": s.platform, "kind": s.kind, "name": s.name,
        "remote_id": s.remote_id, "currency": s.currency, "region": s.region, "status": s.status,
        "auth_expires_at": s.auth_expires_at,
    } for s in list_stores(org_id, include_disconnected=show_all)]
    emit(rows, ["id", "org_id", "platform", "kind", "name", "currency", "region", "status",
                "auth_expires_at"], as_json)


@click.command()
@click.argument("store", required=False)
@click.option("--json", "as_json", is_flag=True)
def doctor(store: str | None, as_json: bool) -> None:
    """Check stores: credentials, prerequisites, webhooks or polling, authorization expiry."""
    from bridge.doctor import diagnose
    from bridge.stores import get_store, list_stores

    targets = [get_store(store)] if store else list_stores(include_disconnected=False)
    reports = [diagnose(st) for st in targets]
    if as_json:
        emit(reports, [], True)
    else:
        if not reports:
            click.echo("no connected stores: connect one with `bridge connect PLATFORM --org ORG ...`")
        for rep in reports:
            click.echo(f"store {rep['store_id']} {rep['platform']} '{rep['name']}' ({rep['status']})")
            for c in rep["checks"]:
                mark = "ok  " if c["ok"] else ("FAIL" if c["blocking"] else "warn")
                click.echo(f"  [{mark}] {c['title']}" + (f": {c['detail']}" if c["detail"] else ""))
                if not c["ok"] and c["fix"]:
                    click.echo(f"         fix: {c['fix']}")
    if any(not c["ok"] and c["blocking"] for rep in reports for c in rep["checks"]):
        sys.exit(1)
