"""Injected faults: what a sandbox answers instead of (or after) doing its work.

A :class:`Fault` names the requests it hits (method, a path pattern, ``fnmatch`` style:
``/admin/api/*/graphql.json``, and optionally a text their body contains, such as a GraphQL
mutation's name) and how many of them (``count``), and what happens:

* ``status``: an error answer in the platform's shape (the sandbox renders it; a platform's own
  error code such as TikTok's 105002 is passed to it as the status), with
  ``retry_after`` seconds when given (429 and 503 get ``Retry-After``);
* ``delay_ms``: the answer comes that much later (a client timeout after a write took effect);
* ``reset``: the connection is reset (TCP RST) with no answer at all;
* ``truncate``: the real answer's head and half its body, then the connection closes;
* ``after``: the request is processed first, then the fault replaces the answer: a lost answer
  is ``after=True`` with ``reset`` or ``status=502``. ``truncate`` always happens after.

:class:`FaultPlan` holds the faults; :class:`FaultMiddleware` (installed by
:class:`bridge.sandboxing.kit.SandboxKit`) applies them to every request outside the control API.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Fault:
    """One injected fault (see the module docstring)."""

    status: int | None = None
    retry_after: float | None = None
    delay_ms: float = 0.0
    reset: bool = False
    truncate: bool = False
    after: bool = False
    method: str = "*"
    path: str = "*"
    body: str | None = None
    """Only requests whose body contains this text (a GraphQL mutation's name, an order id)."""
    count: int = 1
    id: int = field(default=0)
    hits: int = field(default=0)

    def __post_init__(self) -> None:
        self.method = (self.method or "*").upper()
        self.path = self.path or "*"
        if self.truncate:
            self.after = True
        if self.count < 1:
            raise ValueError("a fault's count must be at least 1")
        if self.status is not None and int(self.status) < 400:
            raise ValueError(f"status {self.status} is not an error status (400 or more; a sandbox "
                             "may also take its platform's own error codes)")
        if sum(bool(x) for x in (self.status, self.reset, self.truncate)) > 1:
            raise ValueError("a fault is one of: status, reset, truncate (with an optional delay)")
        if not (self.status or self.reset or self.truncate or self.delay_ms):
            raise ValueError("a fault needs a status, reset, truncate or a delay")

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        return ((self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.path)
                and (not self.body or self.body.encode() in body))

    def describe(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """A fault from JSON (the control API), each field converted to its type."""
        kinds: dict[str, Callable[[Any], Any]] = {
            "status": int, "retry_after": float, "delay_ms": float, "count": int, "method": str,
            "path": str, "body": str, "reset": _flag, "truncate": _flag, "after": _flag}
        unknown = sorted(set(data) - set(kinds))
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        try:
            return cls(**{k: kinds[k](v) for k, v in data.items() if v is not None})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad fault: {exc}") from None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


class FaultPlan:
    """The faults waiting for requests, first added first served."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self._next_id = 0

    def add(self, fault: Fault) -> Fault:
        with self.lock:
            self._next_id += 1
            fault.id = self._next_id
            self.faults.append(fault)
        return fault

    def needs_body(self) -> bool:
        """True when a pending fault looks into request bodies."""
        with self.lock:
            return any(f.body for f in self.faults)

    def take(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        """The first fault matching this request, its count spent by one (gone at zero)."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path, body):
                    fault.count -= 1
                    fault.hits += 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self.lock:
            return [f.describe() for f in self.faults]

    def clear(self) -> int:
        with self.lock:
            n = len(self.faults)
            self.faults.clear()
            return n

    def __len__(self) -> int:
        with self.lock:
            return len(self.faults)

    def __bool__(self) -> bool:
        return len(self) > 0


def _transport(receive: Receive) -> Any:
    """The asyncio transport of this request's connection, when the server exposes it (uvicorn's
    request cycle does, as the owner of ``receive``)."""
    found = getattr(receive, "transport", None)
    return found if found is not None else getattr(getattr(receive, "__self__", None), "transport", None)


async def reset_connection(receive: Receive, send: Send) -> None:
    """Reset the client's connection: RST without any answer where the server lets us reach the
    socket; otherwise a head promising a body that never comes, then a close."""
    transport = _transport(receive)
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        for _ in range(3):  # let the server see the connection is gone (no 500 written after)
            await asyncio.sleep(0)
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    raise ConnectionResetError("sandbox fault: connection reset")


async def cut_short(receive: Receive, send: Send, messages: list[Message]) -> None:
    """Send the captured answer's head and half its body, then close the connection."""
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(max(len(body), 2)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
    transport = _transport(receive)
    if transport is not None:
        transport.close()
        for _ in range(3):
            await asyncio.sleep(0)
        return
    raise ConnectionResetError("sandbox fault: body cut short")


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body; returns it and a ``receive`` that replays it (and still lets
    the server's own ``receive``, and its transport, be reached)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    replay.transport = _transport(receive)  # type: ignore[attr-defined]
    return body, replay


ErrorRenderer = Callable[[Fault, Scope], ASGIApp]
"""Renders an injected error status as the platform answers it: (fault, scope) -> ASGI app."""


class FaultMiddleware:
    """Applies latency and the faults of a :class:`FaultPlan` around an ASGI app."""

    def __init__(self, app: ASGIApp, plan: FaultPlan, render: ErrorRenderer,
                 latency: Callable[[], float], on_fault: Callable[[], None] | None = None) -> None:
        self.app = app
        self.plan = plan
        self.render = render
        self.latency = latency
        self.on_fault = on_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ms = self.latency()
        if ms:
            await asyncio.sleep(ms / 1000)
        body = b""
        if self.plan.needs_body():
            body, receive = await _buffered(receive)
        fault = self.plan.take(scope["method"], scope["path"], body)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if self.on_fault:
            self.on_fault()
        if not fault.after:
            if fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)
            if fault.reset:
                await reset_connection(receive, send)
            elif fault.status:
                await self.render(fault, scope)(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.reset:
            await reset_connection(receive, send)
        elif fault.truncate:
            await cut_short(receive, send, captured)
        elif fault.status:
            await self.render(fault, scope)(scope, receive, send)
        else:
            for message in captured:
                await send(message)
