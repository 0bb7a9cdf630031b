"""Bridge-wide configuration: environment variables ``BRIDGE_*`` over a TOML-ish config file.

Keys are dotted: ``public_url``, ``database_url``, ``tiktokshop.app_key``. The environment
variable for a key is ``BRIDGE_`` + the key upper-cased with dots as underscores
(``BRIDGE_TIKTOKSHOP_APP_KEY``). The file is ``config.json`` in the user's config directory
(``BRIDGE_CONFIG_DIR`` overrides), written by ``bridge config set``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import platformdirs

APP = "bridge"

#: Known bridge-wide settings: key -> (default, help, secret).
DEFAULTS: dict[str, tuple[Any, str, bool]] = {
    "database_url": (None, "SQLAlchemy URL of the state database (default: SQLite in the data dir)", False),
    "public_url": ("http://127.0.0.1:8765", "Public base URL of the admin pages (OAuth redirects, webhooks)", False),
    "host": ("127.0.0.1", "Address `bridge run` listens on", False),
    "port": (8765, "Port `bridge run` listens on", False),
    "workers": (4, "Worker threads of `bridge run`", False),
    "secret_key": (None, "Fernet key encrypting credentials (default: a key file beside the database)", True),
    "allow_private_networks": (None, "Private/link-local networks or hosts bridge may call, comma-separated "
                               "(e.g. 10.0.0.0/8,shop.lan; * for all); refused by default", False),
    "interval.orders": (60, "Seconds between orders syncs", False),
    "interval.inventory": (60, "Seconds between inventory syncs", False),
    "interval.tracking": (300, "Seconds between tracking syncs", False),
    "interval.products": (900, "Seconds between product syncs", False),
    "interval.listings": (300, "Seconds between checks of listings in review", False),
    "interval.refunds": (300, "Seconds between refunds syncs (returns, refunds, line cancellations)", False),
}


def data_dir() -> Path:
    """Where the SQLite database and key file live (``BRIDGE_DATA_DIR`` overrides)."""
    d = Path(os.environ.get("BRIDGE_DATA_DIR") or platformdirs.user_data_dir(APP))
    if not d.is_dir():
        d.mkdir(mode=0o700, parents=True, exist_ok=True)  # the database and key file: owner only
        os.chmod(d, 0o700)  # mkdir's mode is masked by the umask
    return d


def config_dir() -> Path:
    d = Path(os.environ.get("BRIDGE_CONFIG_DIR") or platformdirs.user_config_dir(APP))
    d.mkdir(parents=True, exist_ok=True)
    return d


def config_file() -> Path:
    return config_dir() / "config.json"


_generation = 0


def generation() -> int:
    """Bumped whenever this process writes the config file (for caches of derived values)."""
    return _generation


def _written() -> None:
    global _generation
    _generation += 1


def env_name(key: str) -> str:
    return "BRIDGE_" + key.upper().replace(".", "_").replace("-", "_")


def _read_file() -> dict[str, Any]:
    path = config_file()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        from bridge.errors import Misconfigured

        raise Misconfigured(f"{path} is not valid JSON ({exc}): fix or delete it") from None


def get(key: str, default: Any = None) -> Any:
    """The value of ``key``: environment, then file, then the built-in default."""
    env = os.environ.get(env_name(key))
    if env is not None:
        return env
    stored = _read_file()
    if key in stored:
        return stored[key]
    if key in DEFAULTS and DEFAULTS[key][0] is not None:
        return DEFAULTS[key][0]
    return default


def get_int(key: str, default: int) -> int:
    try:
        return int(get(key, default))
    except (TypeError, ValueError):
        return default


def set_value(key: str, value: Any) -> None:
    data = _read_file()
    data[key] = value
    path = config_file()
    path.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.chmod(path, 0o600)
    _written()


def unset(key: str) -> bool:
    data = _read_file()
    if key not in data:
        return False
    del data[key]
    config_file().write_text(json.dumps(data, indent=2, sort_keys=True))
    _written()
    return True


def is_secret(key: str) -> bool:
    if key in DEFAULTS:
        return DEFAULTS[key][2]
    last = key.rsplit(".", 1)[-1]
    return any(w in last for w in ("secret", "token", "password", "key"))


def all_values() -> dict[str, tuple[Any, str]]:
    """Every known or set key with its value and where it came from (env/file/default)."""
    out: dict[str, tuple[Any, str]] = {}
    stored = _read_file()
    keys = set(DEFAULTS) | set(stored)
    keys |= {
        k[len("BRIDGE_"):].lower() for k in os.environ
        if k.startswith("BRIDGE_") and k not in ("BRIDGE_DATA_DIR", "BRIDGE_CONFIG_DIR")
    }
    for key in sorted(keys):
        if os.environ.get(env_name(key)) is not None:
            out[key] = (os.environ[env_name(key)], "env")
        elif key in stored:
            out[key] = (stored[key], "file")
        elif key in DEFAULTS:
            out[key] = (DEFAULTS[key][0], "default")
    return out


def app_settings(platform: str, names: list[str]) -> dict[str, Any]:
    """The bridge-wide app settings of a platform (``<platform>.<name>``), plus ``base_url``."""
    out: dict[str, Any] = {}
    for name in [*names, "base_url"]:
        value = get(f"{platform}.{name}")
        if value not in (None, ""):
            out[name] = value
    return out
