"""Database engine and sessions. The schema is created or upgraded (Alembic) on first use.

``BRIDGE_DATABASE_URL`` selects the database; the default is SQLite in the user's data
directory. PostgreSQL URLs (``postgresql://``) use psycopg 3.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy import insert as sa_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError, OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, create_engine

from bridge import config
from bridge.errors import Misconfigured

log = logging.getLogger("bridge.db")
MIGRATIONS = Path(__file__).parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_url_cache: dict[tuple[object, ...], str] = {}


def database_url() -> str:
    """The configured URL: environment, config file, else SQLite in the data directory.

    Resolved once per environment and config-file generation (``bridge config set`` in this
    process starts a new one): every session asks for it.
    """
    env = os.environ
    key = (env.get("BRIDGE_DATABASE_URL"), env.get("BRIDGE_DATA_DIR"), env.get("BRIDGE_CONFIG_DIR"),
           config.generation())
    url = _url_cache.get(key)
    if url is None:
        url = _url_cache[key] = _resolve_url()
    return url


def _resolve_url() -> str:
    url = config.get("database_url")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{config.data_dir() / 'bridge.sqlite'}"


#: Page cache of each SQLite connection, in KiB (SQLite's default is 2000). Every pooled
#: connection fills its own cache up to this as it reads a large catalog's tables (the inventory
#: flow's link reads took the process from 9 to 23 MB of SQLite memory at 100,000 variants);
#: a page missing from it is read from the operating system's file cache.
SQLITE_CACHE_KIB = 512


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.close()


class _WriteGate:
    """One writer at a time among this process's connections to one SQLite database.

    SQLite lets one connection write at a time and makes the others sleep in its busy handler
    (1 ms, then longer steps up to 100 ms): with several worker threads that sleeping, not the
    work, sets the pace. The gate is taken at a connection's first write statement and given
    back once its commit or rollback has finished (a connection going back to the pool is
    rolled back), so a waiting thread wakes the moment the writer is done. Other processes
    still meet SQLite's own locking.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owner: int | None = None

    def enter(self, conn: _GatedConnection, statement: str) -> None:
        if conn.holds_gate or statement.lstrip()[:6].upper() in ("SELECT", "PRAGMA"):
            return
        me = threading.get_ident()
        if self.owner == me:  # this thread already writes on another connection: SQLite decides
            return
        if self.lock.acquire(timeout=30):
            self.owner = me
            conn.holds_gate = True

    def leave(self, conn: _GatedConnection) -> None:
        if conn.holds_gate:
            conn.holds_gate = False
            self.owner = None
            self.lock.release()

    def connection_class(self) -> type[_GatedConnection]:
        return type("GatedConnection", (_GatedConnection,), {"gate": self})

    def install(self, engine: Engine) -> None:
        def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            dbapi = conn.connection.dbapi_connection
            if isinstance(dbapi, _GatedConnection):
                self.enter(dbapi, statement)

        event.listen(engine, "before_cursor_execute", before)


class _GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that gives its :class:`_WriteGate` back after commit or rollback."""

    gate: _WriteGate
    holds_gate = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.gate.leave(self)

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.gate.leave(self)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.gate.leave(self)


#: Connections a process keeps to PostgreSQL (at most; as many as 10 kept and 10 more before).
PG_POOL = 20

#: Seconds a pooled PostgreSQL connection may idle and still be used without a ping first.
PING_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Try a pooled connection (a round trip) before handing it out only when it has idled
    more than :data:`PING_IDLE_S`: one found dead (the server restarted, a proxy dropped it) is
    replaced, as ``pool_pre_ping`` does on every checkout. A worker's empty flow run takes a
    connection from the pool five to ten times, so pinging each time was a round trip per
    session (14 % of a worker's samples, issue 20); a connection back in the pool for less
    than that is used as it is (one that broke meanwhile fails its statement, and SQLAlchemy
    then replaces every pooled connection)."""

    @event.listens_for(engine.pool, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return  # new, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool drops this connection and hands out another
            raise DisconnectionError(f"pooled connection found dead: {exc}") from exc


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest revision (never wipes data)."""
    cfg = alembic_config(str(engine.url))
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            return
        except (OperationalError, ProgrammingError) as exc:
            # Another process created the schema between our check and our DDL: try again.
            if attempt == 4 or "already exists" not in str(exc) and "locked" not in str(exc):
                raise
            time.sleep(0.2 * (attempt + 1))


def _private_file(url: str) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite does (its WAL
    and shared-memory files take the database file's mode); an existing one is tightened."""
    path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)
    except OSError:
        pass  # a read-only location: SQLite reports it when it opens the file


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: :func:`database_url`), schema upgraded on first use."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        try:
            if url.startswith("sqlite"):
                _private_file(url)
                gate = _WriteGate()
                engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30,
                                                          "factory": gate.connection_class()},
                                       pool_size=16, max_overflow=16, pool_use_lifo=True)
                # LIFO: a flow reading on one thread reuses one connection (and its warm cache)
                # instead of going round every pooled one, each filling a cache of its own
                event.listen(engine, "connect", _sqlite_pragmas)
                gate.install(engine)
            else:
                try:
                    # LIFO: the connections in use stay few and warm (the rest idle, and are
                    # tried before use once they have idled long: _ping_when_idle). All of
                    # them kept (no overflow): 10 kept and 10 more opened for each burst and
                    # closed after it made a busy worker open a connection every 10 listings,
                    # each a new server process (PostgreSQL's CPU was a third of the workers')
                    engine = create_engine(url, pool_size=PG_POOL, max_overflow=0, pool_use_lifo=True)
                except ModuleNotFoundError as exc:
                    raise Misconfigured(
                        f"BRIDGE_DATABASE_URL names a PostgreSQL database but its driver is not "
                        f"installed ({exc.name}): pip install 'bridge-core[postgres]'") from None
                _ping_when_idle(engine)
            upgrade(engine)
        except OperationalError as exc:
            raise Misconfigured(
                f"cannot open the database {engine.url.render_as_string(hide_password=True) if engine else url}: "
                f"{exc.orig}; check BRIDGE_DATABASE_URL"
            ) from None
        _engines[url] = engine
        return engine


def reset_engines() -> None:
    """Forget cached engines (tests switching databases)."""
    _url_cache.clear()
    with _lock:
        for e in _engines.values():
            e.dispose()
        _engines.clear()


def insert(table: type[SQLModel], values: dict[str, Any]) -> None:
    """Insert one row in its own transaction (Core: no ORM unit of work for a plain append)."""
    with get_engine().begin() as conn:
        conn.execute(sa_insert(table), values)  # type: ignore[arg-type]


_upserts: dict[tuple[Any, ...], Any] = {}


def _insert_for(engine: Engine, table: type[SQLModel]) -> Any:
    """An INSERT of the engine's dialect (both know ON CONFLICT)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)  # type: ignore[arg-type]


def upsert(table: type[SQLModel], values: dict[str, Any] | list[dict[str, Any]], *,
           keys: tuple[str, ...]) -> None:
    """Insert a row, or update it where one with the same ``keys`` exists (one statement, built
    once per table, columns and dialect). A list of rows (all with the same columns) goes in one
    transaction."""
    rows = values if isinstance(values, list) else [values]
    if not rows:
        return
    engine = get_engine()
    cache_key = (table, tuple(rows[0]), keys, engine.dialect.name)
    stmt = _upserts.get(cache_key)
    if stmt is None:
        base = _insert_for(engine, table)
        stmt = _upserts[cache_key] = base.on_conflict_do_update(
            index_elements=list(keys), set_={k: base.excluded[k] for k in rows[0] if k not in keys})
    with engine.begin() as conn:
        conn.execute(stmt, values)


def insert_missing(s: Session, table: type[SQLModel], rows: list[dict[str, Any]], *,
                   keys: tuple[str, ...]) -> None:
    """Insert ``rows`` within ``s``, skipping any whose ``keys`` another writer has just inserted
    (two processes starting at once both add the same new rows)."""
    if rows:
        stmt = _insert_for(s.get_bind(), table).on_conflict_do_nothing(index_elements=list(keys))
        s.execute(stmt, rows)


@contextmanager
def reading(url: str | None = None) -> Iterator[Connection]:
    """A connection for a read that needs no transaction (one statement): on PostgreSQL in
    autocommit, so that no BEGIN goes before it and no ROLLBACK after it (two round trips of
    three; a busy worker's store-state reads were two a listing)."""
    engine = get_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(url), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
