"""Logging: human-readable by default, JSON lines with ``--log-format json``; never a secret."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (not the one at setup)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def setup_logging(fmt: str = "text", level: str = "WARNING") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_bridge", False):
            root.removeHandler(h)
    handler = _StderrHandler()
    handler._bridge = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    logging.getLogger("bridge").setLevel(level)
    root.setLevel(logging.WARNING)
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # undo uvicorn's own set-up
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    _log_uncaught()


def _log_uncaught() -> None:
    """Uncaught exceptions (the main thread's and any worker thread's) go through the logging
    handler, so they are JSON lines too when the format is JSON."""
    log = logging.getLogger("bridge")

    def main_hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.critical("uncaught %s", kind.__name__, exc_info=(kind, exc, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread else "?"
        log.error("uncaught %s in thread %s", args.exc_type.__name__, name,
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))  # type: ignore[arg-type]

    sys.excepthook = main_hook
    threading.excepthook = thread_hook
