"""The CLI: exit codes, one-line errors, --json, connect options from platform settings."""

from __future__ import annotations

import json

import pytest

from bridge.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "bridge, version" in out


def test_failure_is_one_line_and_exit_1(capsys, fake_pm):
    assert run(capsys, "org", "create", "Acme")[0] == 0
    code, out, err = run(capsys, "org", "create", "Acme")
    assert code == 1
    assert err.strip() == "error: organization 'Acme' already exists: pick another name"
    assert "Traceback" not in err


def test_usage_error_exit_2(capsys):
    code, _, err = run(capsys, "org", "create")
    assert code == 2 and "Missing argument" in err
    code, _, err = run(capsys, "no-such-command")
    assert code == 2


def test_connect_builds_options_from_settings(capsys, fake_pm):
    code, out, _ = run(capsys, "connect", "fakeshop", "--help")
    assert code == 0 and "--token" in out and "BRIDGE_CONNECT_FAKESHOP_TOKEN" in out


def test_connect_and_list_stores_json(capsys, fake_pm, monkeypatch):
    from bridge.sandboxing import SandboxServer

    sb = fake_pm.call("fakeshop", "sandbox", options={"seed": 2})
    with SandboxServer(sb.app) as server:
        run(capsys, "org", "create", "Acme")
        monkeypatch.setenv("BRIDGE_CONNECT_FAKESHOP_TOKEN", sb.credentials()["token"])
        code, out, err = run(capsys, "connect", "fakeshop", "--org", "Acme", "--base-url", server.url)
        assert code == 0, err
        assert "connected Fake Shop store 'Fake Shop'" in out
        assert sb.credentials()["token"] not in out + err
        code, out, _ = run(capsys, "stores", "--json")
        rows = json.loads(out)
        assert [(r["platform"], r["currency"], r["status"]) for r in rows] == [("fakeshop", "GBP", "active")]


def test_connect_refuses_plain_http_to_a_remote_host(capsys, fake_pm):
    run(capsys, "org", "create", "Acme")
    code, _, err = run(capsys, "connect", "fakeshop", "--org", "Acme", "--token", "x",
                       "--base-url", "http://shop.example.com")
    assert code == 1
    assert "plain http is refused for shop.example.com" in err


def test_missing_secret_is_a_usage_error(capsys, fake_pm):
    run(capsys, "org", "create", "Acme")
    code, _, err = run(capsys, "connect", "fakeshop", "--org", "Acme")
    assert code == 2 and "BRIDGE_CONNECT_FAKESHOP_TOKEN" in err


def test_plugins_json(capsys, fake_pm):
    code, out, _ = run(capsys, "plugins", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and set(rows) == {"fakeshop", "fakechannel"}
    assert rows["fakeshop"]["kind"] == "ecommerce" and "list_products" in rows["fakeshop"]["capabilities"]


def test_config_masks_secrets(capsys):
    run(capsys, "config", "set", "tiktokshop.app_secret", "s3cr3t-value")
    run(capsys, "config", "set", "public_url", "https://bridge.example.com")
    code, out, _ = run(capsys, "config", "list")
    assert code == 0
    assert "s3cr3t-value" not in out and "https://bridge.example.com" in out
    code, out, _ = run(capsys, "config", "get", "tiktokshop.app_secret", "--reveal")
    assert out.strip() == "s3cr3t-value"


def test_waitlist_cli(capsys):
    assert run(capsys, "waitlist", "join", "--region", "US", "--email", "a@b.co")[1].startswith("a@b.co added")
    assert "already on" in run(capsys, "waitlist", "join", "--region", "US", "--email", "a@b.co")[1]


def test_doctor_reports_checks(capsys, fake_pair):
    code, out, _ = run(capsys, "doctor")
    assert code == 0
    assert "[ok  ] credentials accepted" in out
    # no public URL is set: the doctor says the store is polled, and how to get webhooks
    assert "[warn] change notifications: polling only" in out and "BRIDGE_PUBLIC_URL" in out


def test_log_reads_the_journal(capsys, fake_pair):
    code, out, _ = run(capsys, "log", "--json", "--kind", "store.")
    kinds = [e["kind"] for e in json.loads(out)]
    assert kinds.count("store.connected") == 2


def test_plugin_commands_are_found_on_demand(capsys, fake_pm):
    import types

    import click

    from bridge import hookimpl

    @hookimpl
    def register_commands(cli):  # type: ignore[no-untyped-def]
        @cli.command("hello-plugin")
        def hello() -> None:
            click.echo("hello from a plugin")

    fake_pm.register(types.SimpleNamespace(register_commands=register_commands), name="greeter")
    from bridge.cli import cli as root

    root._plugin_group = None
    try:
        code, out, _ = run(capsys, "hello-plugin")
        assert code == 0 and out.strip() == "hello from a plugin"
        code, out, _ = run(capsys, "--help")
        assert "bridge plugins" in out and "hello-plugin" not in out
    finally:
        root._plugin_group = None


def test_config_masks_url_passwords(capsys, monkeypatch):
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "postgresql://bridge:Sup3r-s3cret@db.example.com:5432/bridge")
    run(capsys, "config", "set", "alerts.webhook_url", "https://hook:t0ken-xyz@alerts.example.com/x")
    code, out, _ = run(capsys, "config", "list")
    assert code == 0
    assert "Sup3r-s3cret" not in out and "t0ken-xyz" not in out
    assert "postgresql://bridge:********@db.example.com:5432/bridge" in out
    code, out, _ = run(capsys, "config", "list", "--json")
    assert "Sup3r-s3cret" not in out
    code, out, _ = run(capsys, "config", "get", "database_url")
    assert "Sup3r-s3cret" not in out
    code, out, _ = run(capsys, "config", "get", "database_url", "--reveal")
    assert "Sup3r-s3cret" in out


def test_mask_value_rules():
    from bridge.masking import mask_url_credentials, mask_value

    assert mask_value("tiktokshop.app_secret", "abc") == "********"
    assert mask_value("public_url", "https://bridge.example.com") == "https://bridge.example.com"
    assert mask_value("database_url", "sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert mask_value("database_url", None) is None
    assert mask_url_credentials("redis://:pw@127.0.0.1:6379/0") == "redis://:********@127.0.0.1:6379/0"
    assert mask_url_credentials("amqp://guest:guest@h//") == "amqp://guest:********@h//"
    assert mask_url_credentials("see postgresql://u:p%40ss@h/db and more") == \
        "see postgresql://u:********@h/db and more"
    assert mask_url_credentials("https://token@h/x") == "https://********@h/x"


@pytest.mark.parametrize("ref", ["²", "99999999999999999999"])
def test_odd_numeric_references_are_one_line_errors(capsys, fake_pm, ref):
    for args in (("org", "rename", ref, "New"), ("disconnect", ref)):
        code, _out, err = run(capsys, *args)
        assert code == 1 and "Traceback" not in err and err.startswith("error:"), (args, err)


@pytest.mark.parametrize("args", [("worker",), ("run", "--scheduler")])
def test_scale_out_without_its_extra_says_what_to_install(capsys, fake_pm, monkeypatch, args):
    import sys

    import bridge

    monkeypatch.setitem(sys.modules, "celery", None)  # a plain install: no celery
    for name in ("celery_app", "queue_scheduler"):  # as if never imported in this process
        monkeypatch.delitem(sys.modules, f"bridge.{name}", raising=False)
        monkeypatch.delattr(bridge, name, raising=False)
    code, _, err = run(capsys, *args)
    assert code == 1
    assert err.strip() == ("error: scale-out (bridge worker, bridge run --scheduler) needs its extra: "
                           "pip install 'bridge-core[scale]'")
