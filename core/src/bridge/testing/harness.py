"""The kit's running world: a plugin's sandbox on a loopback port, connections to it, faults.

Importable without pytest: :func:`bridge.testing.run_kit` and the scaffold's first run use it
directly; :class:`bridge.testing.ContractSuite` wraps it for pytest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from bridge.connection import AppContext, Connection
from bridge.models import Listing, PlatformInfo, Product, ProductPage
from bridge.plugins import PluginManager
from bridge.sandboxing import SandboxServer
from bridge.sandboxing.images import ImageServer


class CheckSkipped(Exception):  # noqa: N818 - it is an outcome, not an error
    """The platform lacks what a check needs (an operation, or a sandbox method)."""


class NotWritten(AssertionError):
    """A hook or a sandbox method still raises ``NotImplementedError`` (left to write)."""

    def __init__(self, what: str, detail: str = "") -> None:
        super().__init__(f"not written yet: {what}" + (f" ({detail})" if detail else ""))
        self.what = what


def _not_written(what: str, exc: NotImplementedError) -> NotWritten:
    return NotWritten(what, str(exc) if str(exc) and "not written" not in str(exc) else "")


class _SandboxMethod:
    """A sandbox method whose ``NotImplementedError`` reads as "not written yet"."""

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name, self.fn = name, fn

    def __call__(self, *args: Any, **kw: Any) -> Any:
        try:
            return self.fn(*args, **kw)
        except NotImplementedError as exc:
            raise _not_written(f"sandbox.{self.name}()", exc) from None


class Harness:
    """One plugin's sandbox served on loopback, and how the checks reach it.

    :param make_listing: ``(harness, connection, sku_prefix) -> Listing`` for channel checks
        (the suite's :meth:`~bridge.testing.ContractSuite.make_listing`).
    :param rate_limit_wait: False when the platform's 429 answers carry no wait (the kit then
        asks only for ``RateLimited`` with a positive ``retry_after``).
    """

    def __init__(self, pm: PluginManager, platform: str, options: dict[str, Any] | None = None, *,
                 currency: str | None = None, rate_limit_wait: bool = True,
                 make_listing: Callable[[Harness, Connection, str], Listing] | None = None) -> None:
        self.pm = pm
        self.platform = platform
        self.options = dict(options or {})
        self.currency = currency
        self.rate_limit_wait = rate_limit_wait
        self._make_listing = make_listing
        self.info: PlatformInfo = pm.info(platform)  # a clear error when it is not installed
        self.sandbox: Any = None
        self.server: SandboxServer | None = None
        self.images: ImageServer | None = None
        self._open: list[Connection] = []
        self.memo: dict[str, Any] = {}
        """What one check made that another may reuse (a created listing, an order)."""

    # ------------------------------------------------------------------ lifetime

    def start(self) -> Harness:
        if not self.pm.has(self.platform, "sandbox"):
            raise NotWritten("the sandbox hook", "the kit runs your platform's sandbox")
        self.sandbox = self.call("sandbox", options=dict(self.options))
        self.server = SandboxServer(self.sandbox.app).start()
        self.images = ImageServer().__enter__()
        return self

    def stop(self) -> None:
        for conn in self._open:
            conn.close()
        if self.images is not None:
            self.images.__exit__(None, None, None)
        if self.server is not None:
            self.server.stop()

    def __enter__(self) -> Harness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ reaching the sandbox

    @property
    def url(self) -> str:
        assert self.server is not None, "the harness is not started"
        return self.server.url

    def app(self) -> AppContext:
        settings = dict(self.sb("app_settings")())
        settings.setdefault("base_url", self.url)
        return AppContext(platform=self.platform, settings=settings)

    def credentials(self) -> dict[str, Any]:
        return dict(self.sb("credentials")())

    def connection(self, **credential_overrides: Any) -> Connection:
        creds = self.credentials()
        creds.update(credential_overrides)
        settings = dict(self.sb("base_url_setting")(self.url))
        return Connection(platform=self.platform, settings=settings, credentials=creds, app=self.app())

    def memo_connection(self) -> Connection:
        """A connection closed when the harness stops (for checks that hand one to a closure)."""
        conn = self.connection()
        self._open.append(conn)
        return conn

    @contextlib.contextmanager
    def connected(self, **credential_overrides: Any) -> Iterator[Connection]:
        conn = self.connection(**credential_overrides)
        try:
            yield conn
        finally:
            conn.close()

    def call(self, operation: str, **kw: Any) -> Any:
        """A platform operation; ``NotImplementedError`` from the hook reads "not written yet"."""
        try:
            return self.pm.call(self.platform, operation, **kw)
        except NotImplementedError as exc:
            raise _not_written(f"the {operation} hook", exc) from None

    def stream(self, operation: str, **kw: Any) -> list[Any]:
        """A streaming operation read to its end (pages)."""
        try:
            return list(self.call(operation, **kw))
        except NotImplementedError as exc:
            raise _not_written(f"the {operation} hook", exc) from None

    def has(self, operation: str) -> bool:
        return self.pm.has(self.platform, operation)

    def need(self, *operations: str) -> None:
        missing = [op for op in operations if not self.has(op)]
        if missing:
            raise CheckSkipped(f"{self.platform} does not implement {', '.join(missing)}")

    def need_kind(self, kind: str) -> None:
        if self.info.kind != kind:
            raise CheckSkipped(f"{self.platform} is a {self.info.kind} platform, not {kind}")

    def sb(self, method: str) -> _SandboxMethod:
        """A method of the sandbox's kit protocol (:mod:`bridge.testing.protocol`)."""
        fn = getattr(self.sandbox, method, None)
        if fn is None or not callable(fn):
            raise CheckSkipped(f"the {self.platform} sandbox has no {method}() "
                               "(see bridge.testing.protocol)")
        return _SandboxMethod(method, fn)

    # ------------------------------------------------------------------ faults

    @contextlib.contextmanager
    def fault(self, status: int, *, count: int = 10, retry_after: float | None = None) -> Iterator[None]:
        """The next ``count`` requests answer ``status``; what is left is withdrawn after."""
        kit = getattr(self.sandbox, "kit", None)
        if kit is None or not hasattr(kit, "fail_next"):
            raise CheckSkipped(f"the {self.platform} sandbox has no fault kit (a `kit` attribute: "
                               "bridge.sandboxing.SandboxKit)")
        try:
            kit.fail_next(count, status, retry_after=retry_after)
        except NotImplementedError as exc:
            raise _not_written("sandbox.kit.fail_next()", exc) from None
        try:
            yield
        finally:
            kit.faults.clear()

    # ------------------------------------------------------------------ shared steps

    def catalog_pages(self, conn: Connection, cursor: str | None = None) -> list[ProductPage]:
        pages = self.stream("list_products", connection=conn, cursor=cursor)
        for page in pages:
            assert isinstance(page, ProductPage), f"list_products yielded {type(page).__name__}, not ProductPage"
        return pages

    @staticmethod
    def products_of(pages: list[ProductPage]) -> list[Product]:
        return [p for page in pages for p in page.products]

    def make_listing(self, conn: Connection, sku_prefix: str) -> Listing:
        if self._make_listing is None:
            from bridge.testing.checks.channel import default_listing

            return default_listing(self, conn, sku_prefix)
        return self._make_listing(self, conn, sku_prefix)
