"""Credentials are encrypted at rest; a missing or wrong key is a clear error."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet

from bridge import config, crypto, db, stores
from bridge.errors import SecretKeyError
from bridge.tables import Store


def test_no_token_in_the_raw_database_file(fake_pair):
    token = fake_pair.shop.credentials()["token"]
    db.reset_engines()  # flush WAL into the file
    raw = b""
    for path in config.data_dir().glob("bridge.sqlite*"):
        raw += path.read_bytes()
    assert b"Fake Shop" in raw  # the file is the right one and is readable
    assert token.encode() not in raw


def test_key_file_is_private():
    crypto.load_key()
    mode = stat.S_IMODE(os.stat(crypto.key_path()).st_mode)
    assert mode == 0o600


def test_wrong_key_says_how_to_recover(fake_pair, monkeypatch):
    stores.forget_connection(fake_pair.eco_store.id)
    monkeypatch.setenv("BRIDGE_SECRET_KEY", Fernet.generate_key().decode())
    with db.session() as s:
        row = s.get(Store, fake_pair.eco_store.id)
    with pytest.raises(SecretKeyError, match="restore the original BRIDGE_SECRET_KEY"):
        stores.connection_for(row)


def test_invalid_key_is_refused(monkeypatch):
    monkeypatch.setenv("BRIDGE_SECRET_KEY", "not-a-key")
    with pytest.raises(SecretKeyError, match="not a valid Fernet key"):
        crypto.load_key()


def test_missing_key_file_without_create():
    with pytest.raises(SecretKeyError, match="set BRIDGE_SECRET_KEY or restore"):
        crypto.load_key(create=False)
