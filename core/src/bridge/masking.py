"""Masking secrets in what bridge shows: a setting's value, and the credentials in URLs.

:func:`mask_value` is the one rule for printing a configuration value (``bridge config list``,
``bridge config get`` without ``--reveal``, any settings page): a secret key shows as
``********``; any other value has the password (or lone user token) of every URL in it masked,
so ``postgresql://bridge:pw@db/bridge`` prints as ``postgresql://bridge:********@db/bridge``.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "********"
#: scheme://userinfo@ — the userinfo is user[:password]; either part may be a secret.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/@\s?#]+)@")
_SECRET_WORDS = ("secret", "token", "password", "key")


def looks_secret(key: str) -> bool:
    """True for a setting whose last dotted part names a secret (``*.app_secret``, ``*_token``)."""
    last = key.rsplit(".", 1)[-1].lower()
    return any(w in last for w in _SECRET_WORDS)


def mask_url_credentials(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` masked (a lone
    ``scheme://token@`` is masked whole: a user name alone is often the secret)."""

    def repl(m: re.Match[str]) -> str:
        user, sep, _password = m.group("userinfo").partition(":")
        return f"{m.group('scheme')}{user}:{MASK}@" if sep else f"{m.group('scheme')}{MASK}@"

    return _URL_USERINFO.sub(repl, text)


def mask_value(key: str, value: Any, *, secret: bool | None = None) -> Any:
    """What to print for setting ``key``: ``********`` for a secret (``secret`` when the caller
    knows, else judged by the key's name), URL credentials masked in any other string."""
    if value in (None, ""):
        return value
    if secret if secret is not None else looks_secret(key):
        return MASK
    if isinstance(value, str):
        return mask_url_credentials(value)
    return value
