"""Printing tables, JSON and progress for the CLI."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

import click


def emit(rows: Iterable[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    """Rows as a JSON array or as an aligned table."""
    rows = list(rows)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("(none)")
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


class Progress:
    """A progress bar on a terminal, plain periodic lines otherwise."""

    def __init__(self, label: str, total: int | None = None, every: float = 2.0) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.every = every
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.tty:
            total = f"/{self.total}" if self.total else ""
            sys.stderr.write(f"\r{self.label}: {self.done}{total}")
            sys.stderr.flush()
        elif now - self.last >= self.every:
            self.last = now
            click.echo(f"{self.label}: {self.done} written so far", err=True)

    def close(self) -> None:
        if self.tty and self.done:
            sys.stderr.write("\n")
