"""With BRIDGE_LOG_FORMAT=json every line bridge writes to stderr is JSON, uncaught errors too:
an exception in a request (served as `bridge run` serves) and in a worker thread."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.logs import setup_logging


@pytest.fixture()
def json_logs() -> Iterator[None]:
    hooks = threading.excepthook, sys.excepthook
    setup_logging("json")
    yield
    setup_logging("text")
    threading.excepthook, sys.excepthook = hooks
    for h in list(logging.getLogger().handlers):
        if getattr(h, "_bridge", False):
            logging.getLogger().removeHandler(h)


def _boom(request: Request) -> Response:
    raise ZeroDivisionError("request went wrong")


def test_uncaught_errors_are_json_lines(capfd, json_logs):
    from bridge.cli.daemon import server_config

    def worker() -> None:
        raise RuntimeError("worker went wrong")

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    config = server_config(Starlette(routes=[Route("/boom", _boom)]), "127.0.0.1", 0)
    server = uvicorn.Server(config)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    assert httpx.get(f"http://127.0.0.1:{port}/boom").status_code == 500
    server.should_exit = True
    runner.join(10)
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    text = " ".join(r.get("exc", "") + r["message"] for r in records)
    assert "worker went wrong" in text and "request went wrong" in text
