"""`bridge user ...`: accounts of the admin pages."""

from __future__ import annotations

import os

import click

from bridge.cli.output import emit


@click.group()
def user() -> None:
    """Users of the admin pages (passwords hashed with Argon2id)."""


@user.command("create")
@click.argument("email")
@click.option("--operator", is_flag=True, help="May see and change every organization.")
@click.option("--org", "orgs", multiple=True, metavar="ORG",
              help="Organization (name or id) the user belongs to; repeatable.")
def user_create(email: str, operator: bool, orgs: tuple[str, ...]) -> None:
    """Create a user; the password comes from BRIDGE_USER_PASSWORD or a hidden prompt."""
    from bridge.web.auth import create_user

    password = os.environ.get("BRIDGE_USER_PASSWORD")
    if not password:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    u = create_user(email, password, operator=operator, orgs=list(orgs))
    what = "operator" if operator else f"member of {', '.join(orgs) or 'no organization yet'}"
    click.echo(f"user {u.id} '{u.email}' created ({what})")


@user.command("add-org")
@click.argument("email")
@click.argument("org")
def user_add_org(email: str, org: str) -> None:
    """Add an existing user to an organization."""
    from bridge.web.auth import add_membership

    add_membership(email, org)
    click.echo(f"'{email}' now belongs to '{org}'")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
def user_list(as_json: bool) -> None:
    """List users with their organizations."""
    from sqlmodel import select

    from bridge import db
    from bridge.tables import Membership, Organization, User

    with db.session() as s:
        orgs = {o.id: o.name for o in s.exec(select(Organization))}
        members: dict[int, list[str]] = {}
        for m in s.exec(select(Membership)):
            members.setdefault(m.user_id, []).append(orgs.get(m.org_id, str(m.org_id)))
        rows = [{"id": u.id, "email": u.email, "operator": u.is_operator,
                 "orgs": ", ".join(sorted(members.get(u.id, [])))}  # type: ignore[arg-type]
                for u in s.exec(select(User).order_by(User.id))]
    emit(rows, ["id", "email", "operator", "orgs"], as_json)
