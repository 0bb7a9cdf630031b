"""`bridge org ...` and `bridge waitlist ...`."""

from __future__ import annotations

import click

from bridge.cli.output import emit


@click.group()
def org() -> None:
    """Organizations: one eCommerce store and any number of TikTok shops each."""


@org.command("create")
@click.argument("name")
def org_create(name: str) -> None:
    """Create an organization."""
    from bridge.stores import create_org

    o = create_org(name)
    click.echo(f"organization {o.id} '{o.name}' created")


@org.command("list")
@click.option("--json", "as_json", is_flag=True)
def org_list(as_json: bool) -> None:
    """List organizations with their stores."""
    from bridge.stores import list_orgs, list_stores

    rows = []
    for o in list_orgs():
        stores = list_stores(o.id, include_disconnected=False)
        rows.append({"id": o.id, "name": o.name,
                     "stores": ", ".join(f"{s.platform}:{s.name}" for s in stores)})
    emit(rows, ["id", "name", "stores"], as_json)


@org.command("rename")
@click.argument("ref")
@click.argument("new_name")
def org_rename(ref: str, new_name: str) -> None:
    """Rename an organization."""
    from bridge.stores import rename_org

    o = rename_org(ref, new_name)
    click.echo(f"organization {o.id} is now '{o.name}'")


@org.command("delete")
@click.argument("ref")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def org_delete(ref: str, yes: bool) -> None:
    """Delete an organization that has no stores."""
    from bridge.stores import delete_org, get_org

    o = get_org(ref)
    if not yes:
        click.confirm(f"delete organization '{o.name}'?", abort=True)
    delete_org(o.id)  # type: ignore[arg-type]
    click.echo(f"organization '{o.name}' deleted")


@click.group()
def waitlist() -> None:
    """Waitlists for markets a channel platform does not serve yet (each channel declares its own)."""


@waitlist.command("join")
@click.option("--region", required=True, help="Region code, e.g. US.")
@click.option("--email", required=True)
@click.option("--platform", help="The channel platform (needed when several keep a waitlist for the region).")
@click.option("--org", "org_ref", help="Organization (optional).")
def waitlist_join(region: str, email: str, platform: str | None, org_ref: str | None) -> None:
    """Record interest in a market (recorded once per email)."""
    from bridge.plugins import get_manager
    from bridge.waitlist import join, waitlisting

    info = waitlisting(get_manager(), region, platform)
    created = join(region, email, org_ref, platform=info.name)
    click.echo(f"{email} {'added to' if created else 'is already on'} the {info.display_name} "
               f"{region.upper()} waitlist")


@waitlist.command("list")
@click.option("--json", "as_json", is_flag=True)
def waitlist_list(as_json: bool) -> None:
    """List waitlist entries."""
    from bridge.waitlist import entries

    emit([e.model_dump() for e in entries()], ["platform", "region", "email", "org_id", "created_at"], as_json)
