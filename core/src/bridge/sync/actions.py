"""Typed actions: what a flow's decide step chose, and what its apply step writes.

A flow reads the platforms (through :class:`~bridge.facade.StoreReader`) and bridge's state, and
*decides*: it turns what it read into a list of actions (create a listing, hold an order with
its reasons, push a tracking number, ...). ``bridge plan`` stops there and prints them; a sync
hands the same actions to the flow's :class:`Applier`, which has one method per action kind and
is the only place a flow writes (to the platforms through a
:class:`~bridge.facade.StoreWriter`, and to bridge's state).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from bridge.errors import BridgeError, Rejected

if TYPE_CHECKING:
    from bridge.sync.base import FlowContext, SyncSink


@dataclass(frozen=True, kw_only=True)
class Action:
    """One decision of a flow about one item."""

    kind: ClassVar[str] = "action"
    item: str
    """The item it is about (a product, order or SKU id), as shown in the plan and the journal."""
    why: str = ""

    def details(self) -> dict[str, Any]:
        """What the plan shows beside the kind, item and reason (JSON values)."""
        return {}

    def row(self) -> dict[str, Any]:
        """The action as ``bridge plan`` prints it and the journal keeps it."""
        return {"action": self.kind, "item": self.item, "why": self.why, **self.details()}

    def failure(self) -> BridgeError | None:
        """The error this action reports for its item (a hold that is a failure), if any."""
        return None


@dataclass(frozen=True, kw_only=True)
class HeldAction(Action):
    """A hold that is an item failure each run: the channel or store record cannot be written
    as it is; the plan and the run report it refused with ``code`` and the reason (``why``)."""

    kind: ClassVar[str] = "hold"
    code: str

    def failure(self) -> BridgeError:
        return Rejected(self.why, code=self.code)


A = TypeVar("A", bound=Action)
_Handler = Callable[[Any, Any], None]


def applies(kind: type[A]) -> Callable[[Callable[[Any, A], None]], Callable[[Any, A], None]]:
    """Mark an :class:`Applier` method as the writer of one action kind."""

    def mark(fn: Callable[[Any, A], None]) -> Callable[[Any, A], None]:
        fn.__dict__["_applies"] = kind  # a marker read by Applier.__init_subclass__
        return fn

    return mark


class Applier:
    """Writes one flow's actions: one method (marked :func:`applies`) per action kind."""

    _handlers: ClassVar[dict[type[Action], _Handler]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        handlers = dict(cls._handlers)
        for value in vars(cls).values():
            kind = getattr(value, "_applies", None)
            if kind is not None:
                handlers[kind] = value
        cls._handlers = handlers

    def __init__(self, ctx: FlowContext, sink: SyncSink) -> None:
        self.ctx = ctx
        self.sink = sink

    def apply(self, action: Action) -> None:
        """Journal one action, then write it (its outcome is counted; a refused item is
        recorded as failed)."""
        self._handler(action)
        self.sink.journal(self.ctx, action)
        self.write(action)

    def _handler(self, action: Action) -> _Handler:
        handler = self._handlers.get(type(action))
        if handler is None:
            raise TypeError(f"{type(self).__name__} cannot apply {type(action).__name__}")
        return handler

    def write(self, action: Action) -> None:
        """Write one action already journalled (:meth:`apply` without the journal entry)."""
        self._handler(action)(self, action)

    def apply_all(self, actions: Iterable[Action]) -> None:
        """Write a batch of actions (in order; a flow may write a batch concurrently)."""
        for action in actions:
            self.apply(action)

    def drain(self) -> None:
        """Wait until every action handed over so far is written (re-raising the first error of
        one); at the end of the run."""

    def when_written(self, done: Callable[[], None]) -> None:
        """Call ``done`` (a cursor moving past these actions) once every action handed over so
        far is written; never when one of them failed. Here: at once, after :meth:`drain`. An
        applier writing in the background calls it later instead (in the order asked, at the
        latest when it drains or closes), so that the flow reads and decides on meanwhile."""
        self.drain()
        done()

    def close(self) -> None:
        """Release what the applier holds (threads); called once the flow has returned."""
