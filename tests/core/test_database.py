"""Schema creation and upgrades (Alembic), and the PostgreSQL backend when configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlmodel import select

from bridge import db, stores
from bridge.tables import Job, Organization
from tests.conftest import old_database

ROOT = Path(__file__).resolve().parents[2]


def test_schema_is_created_on_first_use():
    engine = db.get_engine()
    tables = set(inspect(engine).get_table_names())
    assert {"organizations", "stores", "listing_links", "order_links", "jobs", "events",
            "alembic_version"} <= tables


def test_older_database_is_upgraded_never_wiped(tmp_path):
    url, raw = old_database(tmp_path / "old.sqlite", "0001")
    with raw.begin() as conn:
        conn.execute(text("INSERT INTO organizations (name, created_at) VALUES ('Kept', '2025-01-01 00:00:00')"))
    raw.dispose()
    with db.session(url) as s:
        assert [o.name for o in s.exec(select(Organization))] == ["Kept"]
    with create_engine(url).connect() as conn:
        heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    scripts = ScriptDirectory.from_config(db.alembic_config(url))
    assert heads == [scripts.get_current_head()]


@pytest.mark.postgres
def test_postgres_schema_and_rules(pg_url, fake_pm):
    from bridge.errors import RulesViolation
    from bridge.models import StoreInfo

    org = stores.create_org("Acme")
    stores.save_store(org, "fakeshop", StoreInfo(remote_id="s1", name="s1", currency="GBP"), fake_pm)
    with pytest.raises(RulesViolation):
        stores.save_store(org, "fakeshop", StoreInfo(remote_id="s2", name="s2", currency="GBP"), fake_pm)
    assert db.get_engine().dialect.name == "postgresql"


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_leases_with_two_processes(pg_url, fake_pm, tmp_path):
    from tests.core.test_scheduler import make_orgs

    make_orgs(fake_pm, 3)
    log = tmp_path / "runs.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT), BRIDGE_INTERVAL_PROBE="0", BRIDGE_DATABASE_URL=pg_url)
    procs = [subprocess.Popen([sys.executable, str(ROOT / "tests/core/lease_worker.py"), str(log), "3"],
                              env=env, cwd=ROOT) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    runs = [r for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "end"]
    by_org: dict[int, list[dict]] = {}
    for r in runs:
        by_org.setdefault(r["org"], []).append(r)
    assert set(by_org) == {1, 2, 3}
    for org_runs in by_org.values():
        org_runs.sort(key=lambda r: r["start"])
        for prev, nxt in zip(org_runs, org_runs[1:], strict=False):
            assert nxt["start"] >= prev["end"]
    with db.session() as s:
        assert all(j.lease_owner is None for j in s.exec(select(Job)))


def test_sqlite_writers_of_many_threads_all_land():
    """Eight threads appending and upserting at once: no 'database is locked', nothing lost."""
    _many_writers()


@pytest.mark.postgres
def test_postgres_writers_of_many_threads_all_land(pg_url):
    _many_writers()
    assert db.get_engine().dialect.name == "postgresql"


def _many_writers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bridge import journal
    from bridge.tables import Event

    org = stores.create_org("Gate")
    state = stores.DbState(_store_id(org.id))

    def work(n: int) -> None:
        for i in range(40):
            journal.record("test.gate", f"{n}-{i}", org_id=org.id)
            state[f"k{n}"] = i

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    with db.session() as s:
        assert len(s.exec(select(Event).where(Event.kind == "test.gate")).all()) == 320
    fresh = stores.DbState(state.store_id)
    assert [fresh[f"k{n}"] for n in range(8)] == [39] * 8


def test_sqlite_write_gate_is_released_when_a_connection_goes_back_unfinished():
    engine = db.get_engine()
    conn = engine.connect()
    conn.execute(text("CREATE TABLE IF NOT EXISTS scratch (x INTEGER)"))
    conn.execute(text("INSERT INTO scratch VALUES (1)"))
    conn.close()  # neither committed nor rolled back by the caller: the pool rolls it back
    done = []

    def other() -> None:
        with engine.begin() as c:
            c.execute(text("INSERT INTO scratch VALUES (2)"))
        done.append(True)

    import threading

    t = threading.Thread(target=other)
    t.start()
    t.join(5)
    assert done == [True]


def _store_id(org_id: int) -> int:
    from bridge.tables import Store

    with db.session() as s:
        row = Store(org_id=org_id, platform="fakechannel", kind="channel", name="gate", remote_id="gate", currency="GBP")
        s.add(row)
        s.flush()
        s.refresh(row)
        return row.id  # type: ignore[return-value]


def test_the_sqlite_file_and_data_directory_are_private():
    import os
    import stat

    from bridge import config, db

    with db.session() as s:
        s.exec(text("SELECT 1"))  # type: ignore[call-overload]
    home = config.data_dir()
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    for name in os.listdir(home):
        if name.startswith("bridge.sqlite"):
            assert stat.S_IMODE(os.stat(home / name).st_mode) == 0o600, name
    assert (home / "bridge.sqlite").exists()


def test_state_update_writes_every_value_in_one_transaction():
    org = stores.create_org("Batch")
    state = stores.DbState(_store_id(org.id))
    state["a"] = {"uri": "old"}
    engine = db.get_engine()
    commits = []

    def count(conn: object) -> None:
        commits.append(1)

    event.listen(engine, "commit", count)
    try:
        state.update({"a": {"uri": "new"}, "b": {"uri": "b1"}}, c=[1])
    finally:
        event.remove(engine, "commit", count)
    assert len(commits) == 1
    fresh = stores.DbState(state.store_id)
    assert (fresh["a"], fresh["b"], fresh["c"]) == ({"uri": "new"}, {"uri": "b1"}, [1])
    assert state["a"] == {"uri": "new"}


def test_state_cache_keeps_the_most_recent_values_only(monkeypatch):
    """Plugins keep one state value per item (an uploaded image per source URL): the cache in
    front of the table keeps the most recently used ones, not every one (it grew with the catalog)."""
    monkeypatch.setattr(stores.DbState, "CACHED", 8)
    org = stores.create_org("Cache")
    state = stores.DbState(_store_id(org.id))
    state["hot"] = "h"
    for i in range(30):
        state[f"image:{i}"] = {"uri": f"u{i}"}
        assert state["hot"] == "h"  # used all along: kept
    state.update({f"batch:{i}": i for i in range(20)})
    assert len(state._cache) == 8
    assert state["image:0"] == {"uri": "u0"} and state["batch:3"] == 3  # dropped ones: read back from the table


def test_sqlite_connections_keep_a_small_page_cache_and_are_reused_last_in_first_out():
    """Each pooled SQLite connection fills a page cache of its own as it reads: the cache is
    small, and a flow reading on one thread reuses one connection instead of going round all."""
    engine = db.get_engine()
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    held = [engine.connect() for _ in range(4)]  # several workers at once: four pooled connections
    for c in held:
        c.execute(text("SELECT 1"))
    for c in held:
        c.close()
    used = set()
    for _ in range(6):
        with engine.connect() as c:
            assert c.execute(text("PRAGMA cache_size")).scalar() == -db.SQLITE_CACHE_KIB
            used.add(id(c.connection.dbapi_connection))
    assert len(used) == 1


def test_making_a_row_parses_no_builtins_signature(monkeypatch):
    """pydantic looks at a default factory's signature each time a row is made; a builtin's
    (``list``) is parsed from its text with ``ast.parse``, which cost about 0.1 ms for every
    ListingLink a sync created: every table's factories are Python functions."""
    import inspect as pyinspect

    from sqlmodel import SQLModel

    from bridge import tables

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a builtin default factory's text signature was parsed")

    monkeypatch.setattr(pyinspect, "_signature_fromstr", refuse)
    link = tables.ListingLink(channel_store_id=1, source_product_id="p")
    assert link.reasons == [] and link.updated_at is not None
    models = [m for m in vars(tables).values()
              if isinstance(m, type) and issubclass(m, SQLModel) and hasattr(m, "__tablename__")]
    assert len(models) > 20
    for model in models:
        for name, field in model.model_fields.items():
            factory = field.default_factory
            assert factory is None or hasattr(factory, "__code__"), f"{model.__name__}.{name}: {factory}"
            if factory is not None:
                assert factory() is not factory(), f"{model.__name__}.{name} shares one value"


@pytest.mark.postgres
def test_postgres_bursts_of_threads_reuse_the_pools_connections(pg_url):
    """More threads than the pool holds, again and again (a busy worker's writers): they share
    PG_POOL connections, opened once; none is opened and closed per burst (10 kept and 10 more
    for each burst made a busy worker open a new server process every 10 listings)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    engine = db.get_engine()
    opened: list[int] = []
    event.listen(engine.pool, "connect", lambda *a: opened.append(1))
    start = threading.Barrier(30)

    def work(_: int) -> None:
        start.wait()
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(0.05)"))

    for _ in range(3):
        with ThreadPoolExecutor(30) as pool:
            list(pool.map(work, range(30)))
    assert 0 < len(opened) <= db.PG_POOL  # (one more was opened before: the schema's upgrade)
    assert engine.pool.checkedin() <= db.PG_POOL and engine.pool.overflow() <= 0


def test_store_state_reads_several_values_in_one_statement():
    """``DbState.get_many``: the values kept among the keys asked, those not cached read in one
    statement (a listing's images asked for theirs one at a time: four reads a listing)."""
    from bridge.connection import MemoryState

    org = stores.create_org("Many")
    sid = _store_id(org.id)
    stores.DbState(sid).update({"a": 1, "b": {"uri": "x"}, "c": [3]})
    state = stores.DbState(sid)  # nothing cached yet
    statements: list[str] = []
    engine = db.get_engine()
    listen = lambda conn, cursor, statement, *a: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert state.get_many(["a", "b", "missing", "a"]) == {"a": 1, "b": {"uri": "x"}}
        assert len(statements) == 1
        assert state.get_many(["a", "b"]) == {"a": 1, "b": {"uri": "x"}} and len(statements) == 1
        assert state.get_many(["b", "c"]) == {"b": {"uri": "x"}, "c": [3]} and len(statements) == 2
        assert state["c"] == [3] and len(statements) == 2  # kept in the cache
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert MemoryState(a=1, b=2).get_many(["b", "z"]) == {"b": 2}


@pytest.mark.postgres
def test_postgres_store_state_reads_open_no_transaction(pg_url):
    """A store-state read is one statement: on PostgreSQL it runs in autocommit (no BEGIN before
    it, no ROLLBACK after: two round trips of three; a busy worker made two a listing). The
    pooled connection is back in a transaction's mode afterwards."""
    from psycopg.pq import TransactionStatus

    org = stores.create_org("Reads")
    sid = _store_id(org.id)
    stores.DbState(sid).update({"a": 1})
    engine = db.get_engine()
    seen: list[Any] = []

    def after(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(conn.connection.dbapi_connection.info.transaction_status)

    event.listen(engine, "after_cursor_execute", after)
    try:
        state = stores.DbState(sid)
        assert state.get("a") == 1 and stores.DbState(sid).get_many(["a", "b"]) == {"a": 1}
        assert state.get("missing") is None
        assert seen == [TransactionStatus.IDLE] * 3
        seen.clear()
        with db.session() as s:  # a session still opens a transaction on the same pool
            s.exec(select(Organization))
        assert seen == [TransactionStatus.INTRANS]
    finally:
        event.remove(engine, "after_cursor_execute", after)
