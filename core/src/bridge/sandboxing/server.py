"""Serving a sandbox's ASGI app on a loopback port from a background thread (uvicorn): tests,
the demo and ``bridge sandbox PLATFORM --port N`` all reach a sandbox over a real socket with the
same httpx client the real code uses."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxServer:
    """Serve an ASGI app on 127.0.0.1 from a background thread (uvicorn).

    >>> with SandboxServer(app) as server:
    ...     server.url  # 'http://127.0.0.1:PORT'
    """

    def __init__(self, app: Any, port: int | None = None, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.host = host
        self.port = port or free_port()
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level="warning",
            log_config=None,  # logging stays bridge's (JSON lines with --log-format json)
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.server.serve())

        self.thread = threading.Thread(target=run, name=f"sandbox:{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread:
            self.thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
