"""``bridge new connector NAME --kind ecommerce|channel``: write a connector distribution."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def new() -> None:
    """Start a new piece of bridge: a connector distribution for another platform."""


@new.command("connector")
@click.argument("name")
@click.option("--kind", type=click.Choice(["ecommerce", "channel"]), required=True,
              help="An eCommerce store (the catalog's source) or a sales channel.")
@click.option("--dir", "into", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to write bridge-NAME/.")
@click.option("--display-name", help="The platform's name as users read it (default: from NAME).")
@click.option("--force", is_flag=True, help="Write into an existing, non-empty directory.")
def connector(name: str, kind: str, into: Path, display_name: str | None, force: bool) -> None:
    """Write bridge-NAME/: pyproject with the entry point, the connector with every hook of its
    kind (docstrings from the hook specifications), a sandbox on the sandbox kit and the
    connector test kit's test file. The kit's first run lists what is left to write."""
    from bridge.scaffold import render, write

    try:
        root = write(name, kind, into, display_name=display_name, force=force)
    except (ValueError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    for rel in render(name, kind, display_name):
        click.echo(f"wrote {root / rel}")
    click.echo(f"next: pip install -e '{root}[test]' && pytest {root / 'tests'}  "
               "(the connector test kit lists what is left to write)")
