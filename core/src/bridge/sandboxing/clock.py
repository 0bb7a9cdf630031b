"""The clock of a sandbox's store, which the connector test kit may hold still.

A sandbox stamps every change with :meth:`HeldClock.now`; the kit's ``hold_clock(at)`` makes
every change of a test carry the same instant (same-second cursor checks), and ``None`` gives
the real clock back. Each sandbox formats the instant as its platform does.
"""

from __future__ import annotations

from datetime import UTC, datetime


class HeldClock:
    """Real UTC time, or the one instant it is held at."""

    def __init__(self) -> None:
        self.held: datetime | None = None

    def now(self) -> datetime:
        """The held instant, else the current time (aware, UTC)."""
        return self.held or datetime.now(UTC)

    def hold(self, at: float | None) -> None:
        """Stamp every change at Unix time ``at`` (whole seconds) from now on; None: the real
        clock again."""
        self.held = None if at is None else datetime.fromtimestamp(int(at), UTC)
