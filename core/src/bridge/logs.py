"""Logging: human-readable by default, JSON lines with ``--log-format json``; never a secret."""

from __future__ import annotations

import json
import logging
import sys
import time


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


def setup_logging(fmt: str = "text", level: str = "WARNING") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_bridge", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._bridge = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    logging.getLogger("bridge").setLevel(level)
    root.setLevel(logging.WARNING)
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
