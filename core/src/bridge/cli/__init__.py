"""The ``bridge`` command line: a root group that adds commands from small modules.

Exit status: 0 success, 1 failure, 2 usage error. An error is one line on stderr; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from bridge import __version__

#: (module, attribute) of every built-in command; imported lazily so start-up stays fast.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("bridge.cli.system", "init"),
    "plugins": ("bridge.cli.system", "plugins_cmd"),
    "config": ("bridge.cli.system", "config_cmd"),
    "status": ("bridge.cli.system", "status"),
    "log": ("bridge.cli.system", "log_cmd"),
    "org": ("bridge.cli.orgs", "org"),
    "waitlist": ("bridge.cli.orgs", "waitlist"),
    "connect": ("bridge.cli.stores", "connect"),
    "disconnect": ("bridge.cli.stores", "disconnect"),
    "stores": ("bridge.cli.stores", "stores"),
    "doctor": ("bridge.cli.stores", "doctor"),
    "run": ("bridge.cli.daemon", "run"),
    "worker": ("bridge.cli.daemon", "worker"),
    "sandbox": ("bridge.cli.daemon", "sandbox"),
    "sandbox-ctl": ("bridge.cli.sandbox_ctl", "sandbox_ctl"),
    "sync": ("bridge.cli.daemon", "sync"),
    "new": ("bridge.cli.scaffold", "new"),
    "alerts": ("bridge.cli.alerts", "alerts"),
}
#: Extra command modules (flows, users, demo) register here: module -> attribute names.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "bridge.cli.flows": ("plan", "map_cmd", "drift", "journal", "demo"),
    "bridge.cli.users": ("user",),
    "bridge.cli.listings": ("products_cmd",),
}


class RootGroup(click.Group):
    """Loads built-in commands on demand and plugins' commands through ``register_commands``."""

    _plugin_group: click.Group | None = None

    def _extras(self) -> dict[str, click.Command]:
        out: dict[str, click.Command] = {}
        for module, attrs in EXTRA_MODULES.items():
            mod = importlib.import_module(module)
            for attr in attrs:
                cmd = getattr(mod, attr, None)
                if isinstance(cmd, click.Command):
                    out[cmd.name or attr] = cmd
        return out

    def _plugins(self) -> click.Group:
        if self._plugin_group is None:
            group = click.Group()
            try:
                from bridge.plugins import get_manager

                get_manager().hook.register_commands(cli=group)
            except Exception as exc:  # a broken plugin must not break the CLI
                click.echo(f"warning: a plugin failed to add commands: {exc}", err=True)
            self._plugin_group = group
        return self._plugin_group

    def list_commands(self, ctx: click.Context) -> list[str]:
        # Plugins' own commands are found on demand (get_command), not listed here: listing
        # them would import every plugin and make `bridge --help` slow.
        names = set(COMMANDS) | set(self.commands)
        names |= set(self._extras())
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name in COMMANDS:
            module, attr = COMMANDS[name]
            return getattr(importlib.import_module(module), attr)
        extras = self._extras()
        if name in extras:
            return extras[name]
        return self._plugins().commands.get(name)


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Installed plugins may add commands of their own: see `bridge plugins`.")
@click.version_option(__version__, prog_name="bridge")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              envvar="BRIDGE_LOG_FORMAT", help="Log lines as text or JSON lines.")
@click.option("--log-level", default="WARNING", envvar="BRIDGE_LOG_LEVEL",
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.pass_context
def cli(ctx: click.Context, debug: bool, log_format: str, log_level: str) -> None:
    """bridge: keep an eCommerce store and its TikTok Shop stores in step."""
    from bridge.logs import setup_logging

    ctx.obj = {"debug": debug}
    setup_logging(log_format, log_level.upper())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``bridge`` console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="bridge", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        from bridge.errors import BridgeError

        if debug:
            raise
        if isinstance(exc, BridgeError):
            click.echo(f"error: {exc}", err=True)
        else:
            click.echo(f"error: {type(exc).__name__}: {exc} (run with --debug for details)", err=True)
        sys.exit(1)
    sys.exit(0)
