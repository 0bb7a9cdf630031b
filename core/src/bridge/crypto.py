"""Credentials encrypted at rest with Fernet.

The key comes from ``BRIDGE_SECRET_KEY``, else from ``secret.key`` beside the database, created
with mode 0600 at first run. A missing or wrong key gives a :class:`~bridge.errors.SecretKeyError`
that says how to recover.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from bridge import config
from bridge.errors import SecretKeyError

KEY_FILE = "secret.key"


def key_path() -> Path:
    return config.data_dir() / KEY_FILE


def load_key(*, create: bool = True) -> bytes:
    """The Fernet key: environment, else the key file (created when ``create``)."""
    env = config.get("secret_key")
    if env:
        key = env.encode() if isinstance(env, str) else env
    else:
        path = key_path()
        if not path.exists():
            if not create:
                raise SecretKeyError(
                    f"no credentials key: set BRIDGE_SECRET_KEY or restore {path}"
                )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
        key = path.read_bytes().strip()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise SecretKeyError(
            "BRIDGE_SECRET_KEY is not a valid Fernet key (32 url-safe base64 bytes): "
            "generate one with `bridge init --new-key` or restore the original"
        ) from None
    return key


class Vault:
    """Encrypts and decrypts credential dicts."""

    def __init__(self, key: bytes | None = None) -> None:
        self.fernet = Fernet(key or load_key())

    def encrypt(self, data: dict[str, Any]) -> str:
        return self.fernet.encrypt(json.dumps(data, default=str).encode()).decode()

    def decrypt(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            return json.loads(self.fernet.decrypt(token.encode()))
        except InvalidToken:
            raise SecretKeyError(
                "stored credentials cannot be decrypted with this key: restore the original "
                f"BRIDGE_SECRET_KEY or {key_path()}, or reconnect the stores with "
                "`bridge connect` after `bridge disconnect`"
            ) from None
