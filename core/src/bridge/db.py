"""Database engine and sessions. The schema is created or upgraded (Alembic) on first use.

``BRIDGE_DATABASE_URL`` selects the database; the default is SQLite in the user's data
directory. PostgreSQL URLs (``postgresql://``) use psycopg 3.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, create_engine

from bridge import config
from bridge.errors import Misconfigured

log = logging.getLogger("bridge.db")
MIGRATIONS = Path(__file__).parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def database_url() -> str:
    url = config.get("database_url")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{config.data_dir() / 'bridge.sqlite'}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


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


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: :func:`database_url`), schema upgraded on first use."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        try:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
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
    with _lock:
        for e in _engines.values():
            e.dispose()
        _engines.clear()


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
