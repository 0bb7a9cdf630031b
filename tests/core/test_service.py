"""Running as a service: validated configuration, recovery of what a killed process held,
the webhook reachability rule."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bridge import config, db, liveness, scheduler
from bridge.cli import main
from bridge.errors import Misconfigured
from bridge.tables import Job, Store, SyncRun, utcnow


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.parametrize(("key", "value", "says"), [
    ("port", "abc", "port: 'abc' is invalid: expected a port number from 1 to 65535"),
    ("interval.orders", "soon", "interval.orders: 'soon' is invalid: expected a whole number of seconds"),
    ("public_url", "notaurl", "public_url: 'notaurl' is invalid: expected an http(s) URL"),
    ("nonsense.key", "x", "unknown key 'nonsense.key'"),
    ("workers", "0", "workers: '0' is invalid: expected a whole number from 1 to 64"),
    ("database_url", "mysql://u:pw@h/db", "database_url: 'mysql://u:********@h/db' is invalid"),
])
def test_config_set_refuses_unknown_keys_and_bad_values(capsys, key, value, says):
    code, out, err = run(capsys, "config", "set", key, value)
    assert code == 1
    assert err.strip().splitlines() == [f"error: {err.strip()[7:]}"]  # one line
    assert says in err
    assert key not in config._read_file()


def test_config_set_stores_typed_values(capsys):
    assert run(capsys, "config", "set", "port", "9001")[0] == 0
    assert config._read_file()["port"] == 9001
    assert config.get("port") == 9001


def test_config_file_is_read_once_until_anyone_changes_it(monkeypatch):
    """Settings asked for on every webhook do not read the file each time; a change another
    process writes (not through this process's set_value) is seen."""
    import json

    config.set_value("port", 9001)
    reads: list[Path] = []
    real = Path.read_text

    def counted(self: Path, *a, **kw):  # type: ignore[no-untyped-def]
        reads.append(self)
        return real(self, *a, **kw)

    monkeypatch.setattr(Path, "read_text", counted)
    for _ in range(5):
        assert config.get("port") == 9001
        assert config.app_settings("fakeshop", ["app_secret"]) == {}
    assert len(reads) <= 1, reads
    config.config_file().write_text(  # as another process writes it
        json.dumps({"port": 9002, "fakeshop.base_url": "http://127.0.0.1:9"}))
    assert config.get("port") == 9002
    assert config.app_settings("fakeshop", []) == {"base_url": "http://127.0.0.1:9"}


def test_invalid_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("BRIDGE_PORT", "abc")
    with pytest.raises(Misconfigured, match=r"^BRIDGE_PORT is invalid \('abc'\): expected a port number"):
        config.load()


def test_bridge_run_refuses_to_start_on_invalid_configuration(monkeypatch):
    bridge = str(Path(sys.executable).with_name("bridge"))
    proc = subprocess.run([bridge, "run", "--no-web"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "BRIDGE_INTERVAL_ORDERS": "soon"})
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("error: BRIDGE_INTERVAL_ORDERS is invalid ('soon'): expected a whole "
                                   "number of seconds from 1 to 604800")


def test_public_url_follows_where_bridge_listens_when_not_set(monkeypatch):
    config.set_runtime_public_url(None)
    assert config.public_url() == "http://127.0.0.1:8765"
    monkeypatch.setenv("BRIDGE_PORT", "46999")
    assert config.public_url() == "http://127.0.0.1:46999"
    config.set_runtime_public_url("http://127.0.0.1:47000")
    try:
        assert config.public_url() == "http://127.0.0.1:47000"
        monkeypatch.setenv("BRIDGE_PUBLIC_URL", "https://bridge.example.com/")
        assert config.public_url() == "https://bridge.example.com"
    finally:
        config.set_runtime_public_url(None)


def _dead_owner() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid no longer exists
    return f"{liveness.identity('x').split('|')[0]}|{liveness.boot_id()}|{proc.pid}|1|x"


def test_owner_liveness():
    assert not liveness.is_dead(liveness.identity("me"))
    assert liveness.is_dead(_dead_owner())
    host = liveness.identity().split("|")[0]
    assert liveness.is_dead(f"{host}|another-boot|1|1|x")
    assert not liveness.is_dead("elsewhere|boot|1|1|x")  # another host: left to the lease expiry


def test_killed_process_runs_and_leases_recovered_at_start(fake_pm):
    from bridge import stores
    from tests.core.test_scheduler import make_orgs

    make_orgs(fake_pm, 1)
    dead, alive = _dead_owner(), liveness.identity("alive")
    with db.session() as s:
        s.add(Job(key="dead", flow="orders", org_id=1, lease_owner=dead,
                  lease_until=utcnow() + timedelta(seconds=60), next_run_at=utcnow() + timedelta(hours=1)))
        s.add(Job(key="alive", flow="orders", org_id=1, lease_owner=alive,
                  lease_until=utcnow() + timedelta(seconds=60)))
        s.add(SyncRun(flow="orders", org_id=1, owner=dead))
        s.add(SyncRun(flow="orders", org_id=1, owner=alive))
    assert stores.list_orgs()
    assert scheduler.Scheduler(workers=1, pm=fake_pm).recover() == {"leases": 1, "runs": 1}
    with db.session() as s:
        jobs = {j.key: j for j in s.exec(select(Job))}
        runs = {r.owner: r for r in s.exec(select(SyncRun))}
    assert jobs["dead"].lease_owner is None and jobs["dead"].next_run_at <= utcnow()
    assert jobs["alive"].lease_owner == alive
    assert runs[dead].status == "aborted" and "ended before it finished" in runs[dead].error
    assert runs[alive].status == "running"


def test_a_public_url_the_platform_cannot_reach_is_never_registered(fake_pm, monkeypatch):
    from bridge import subscriptions

    real = Store(id=1, org_id=1, platform="fakeshop", kind="ecommerce", remote_id="r", name="n",
                 currency="GBP", settings={})
    sandbox = Store(id=2, org_id=1, platform="fakeshop", kind="ecommerce", remote_id="s", name="n",
                    currency="GBP", settings={"base_url": "http://127.0.0.1:9"})
    monkeypatch.delenv("BRIDGE_PUBLIC_URL", raising=False)
    assert subscriptions.reachable_address(real, fake_pm)[0] is None
    assert "BRIDGE_PUBLIC_URL" in subscriptions.reachable_address(real, fake_pm)[1]
    monkeypatch.setenv("BRIDGE_PUBLIC_URL", "http://127.0.0.1:8765")
    address, why = subscriptions.reachable_address(real, fake_pm)
    assert address is None and "loopback" in why
    assert subscriptions.reachable_address(sandbox, fake_pm)[0] == "http://127.0.0.1:8765/webhooks/fakeshop/2"
    monkeypatch.setenv("BRIDGE_PUBLIC_URL", "http://bridge.example.com")
    assert "not https" in subscriptions.reachable_address(real, fake_pm)[1]
    monkeypatch.setenv("BRIDGE_PUBLIC_URL", "https://bridge.example.com")
    assert subscriptions.reachable_address(real, fake_pm)[0] == "https://bridge.example.com/webhooks/fakeshop/1"


# --------------------------------------------------------------------------- messages


def test_unreachable_base_url_names_host_port_and_what_to_check(capsys, fake_pm, monkeypatch):
    run(capsys, "org", "create", "Acme")
    monkeypatch.setenv("BRIDGE_CONNECT_FAKESHOP_TOKEN", "x")
    code, _, err = run(capsys, "connect", "fakeshop", "--org", "Acme", "--base-url", "http://127.0.0.1:9")
    assert code == 1
    assert "cannot reach 127.0.0.1:9" in err and "check the host and port" in err
    assert len(err.strip().splitlines()) == 1


def test_base_url_variable_is_honoured_by_connect(capsys, fake_pm, monkeypatch):
    from bridge.sandboxing import SandboxServer

    sb = fake_pm.call("fakeshop", "sandbox", options={"seed": 1})
    with SandboxServer(sb.app) as server:
        run(capsys, "org", "create", "Acme")
        monkeypatch.setenv("BRIDGE_FAKESHOP_BASE_URL", server.url)
        monkeypatch.setenv("BRIDGE_CONNECT_FAKESHOP_TOKEN", sb.credentials()["token"])
        code, out, err = run(capsys, "connect", "fakeshop", "--org", "Acme")
        assert code == 0, err
        assert out.startswith("connected Fake Shop store")
        code, out, err = run(capsys, "connect", "fakeshop", "--org", "Acme")
        assert code == 0, err
        assert out.startswith("reconnected Fake Shop store")


def test_connect_without_the_plugin_names_the_distribution(capsys, monkeypatch):
    monkeypatch.setenv("BRIDGE_PLUGINS", "shopify")
    from bridge.plugins import set_manager

    set_manager(None)
    code, _, err = run(capsys, "connect", "magento2", "--org", "Acme")
    assert code == 2
    assert "no plugin provides platform 'magento2'" in err and "pip install bridge-magento2" in err


def test_unknown_platform_suggests_no_made_up_distribution(capsys):
    code, _, err = run(capsys, "sandbox", "nosuch")
    assert code == 1
    assert "no plugin provides platform 'nosuch'" in err
    assert "pip install" not in err and "`bridge plugins`" in err


def test_bad_database_url_names_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "nonsense")
    code, _, err = run(capsys, "stores")
    assert code == 1
    assert err.startswith("error: BRIDGE_DATABASE_URL is invalid ('nonsense'): expected a database URL")


def test_doctor_with_the_wrong_secret_key_says_restore_the_key(capsys, fake_pair, monkeypatch):
    from cryptography.fernet import Fernet

    from bridge import stores

    for sid in list(stores._connections):
        stores.forget_connection(sid)
    monkeypatch.setenv("BRIDGE_SECRET_KEY", Fernet.generate_key().decode())
    code, out, _ = run(capsys, "doctor")
    assert code == 1
    assert "fix: restore the key that encrypted them" in out
    assert "fix: reconnect" not in out


def test_postgresql_without_its_driver_says_what_to_install(capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.split(".")[0] == "psycopg":
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "postgresql://bridge@127.0.0.1:1/bridge")
    db.reset_engines()
    code, _, err = run(capsys, "stores")
    assert code == 1
    assert "pip install 'bridge-core[postgres]'" in err and "BRIDGE_DATABASE_URL" in err


def test_authorization_expiry_warns_once_per_threshold_even_when_crossed_together(fake_pm):
    from bridge.tables import Event
    from tests.core.test_scheduler import make_orgs

    make_orgs(fake_pm, 1)
    with db.session() as s:
        st = s.exec(select(Store).where(Store.kind == "channel")).one()
        st.auth_expires_at = utcnow() + timedelta(days=5)  # 30 and 7 crossed at once
        s.add(st)
    for _ in range(3):
        scheduler.check_auth_expiry()

    def warnings() -> list[Event]:
        with db.session() as s:
            return list(s.exec(select(Event).where(Event.kind == "store.auth_expiring")))

    assert [e.data["days"] for e in warnings()] == [7]
    with db.session() as s:
        st = s.exec(select(Store).where(Store.kind == "channel")).one()
        st.auth_expires_at = utcnow() + timedelta(hours=12)
        s.add(st)
    scheduler.check_auth_expiry()
    scheduler.check_auth_expiry()
    assert [e.data["days"] for e in warnings()] == [7, 1]


def test_authorization_expiry_reads_only_stores_within_the_longest_warning(fake_pm):
    from sqlalchemy import event

    from bridge.tables import Event
    from tests.core.test_scheduler import make_orgs

    make_orgs(fake_pm, 1)
    with db.session() as s:
        st = s.exec(select(Store).where(Store.kind == "channel")).one()
        st.auth_expires_at = utcnow() + timedelta(days=45)
        s.add(st)
    loaded: list[int] = []

    def on_load(target, _context):  # type: ignore[no-untyped-def]
        loaded.append(target.id)

    event.listen(Store, "load", on_load)
    try:
        scheduler.check_auth_expiry()  # every 30 s in the scheduler: nothing to read here
        assert loaded == []
        with db.session() as s:
            st = s.exec(select(Store).where(Store.kind == "channel")).one()
            st.auth_expires_at = utcnow() + timedelta(days=29)
            s.add(st)
        loaded.clear()
        scheduler.check_auth_expiry()
        assert loaded == [st.id]
    finally:
        event.remove(Store, "load", on_load)
    with db.session() as s:
        days = [e.data["days"] for e in s.exec(select(Event).where(Event.kind == "store.auth_expiring"))]
    assert days == [30]


def test_the_process_identity_reads_its_start_time_once(monkeypatch):
    """Every run records its owner (bridge.liveness.identity): the process's start time, which
    never changes, is read from /proc once, not at each run."""
    import os

    from bridge import liveness

    reads: list[int] = []
    real = liveness._start_time

    def counted(pid: int) -> str | None:
        reads.append(pid)
        return real(pid)

    monkeypatch.setattr(liveness, "_start_time", counted)
    liveness._own_start_time.cache_clear()
    first = liveness.identity("a")
    assert liveness.identity("b").rsplit("|", 1)[0] == first.rsplit("|", 1)[0]
    assert reads == [os.getpid()]
    assert not liveness.is_dead(first)
