"""The ``bridge`` command line."""

import click

from bridge import __version__


@click.group()
@click.version_option(__version__, prog_name="bridge")
def cli() -> None:
    """bridge: keep an eCommerce store and TikTok Shop stores in step."""


def main() -> None:
    cli()
