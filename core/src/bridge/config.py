"""Bridge-wide configuration: one typed, validated settings model for the file and ``BRIDGE_*``.

Keys are dotted: ``public_url``, ``interval.orders``, ``tiktokshop.app_key``. The environment
variable for a key is ``BRIDGE_`` + the key upper-cased with dots as underscores
(``BRIDGE_INTERVAL_ORDERS``, ``BRIDGE_TIKTOKSHOP_APP_KEY``); it wins over the file,
``config.json`` in the user's config directory (``BRIDGE_CONFIG_DIR`` overrides), written by
``bridge config set``.

:class:`Settings` (pydantic-settings) declares every bridge-wide key with its type and bounds;
:func:`load` validates the file and the environment together and raises
:class:`~bridge.errors.Misconfigured` with one line naming the key (or variable) and the form
expected. A platform's keys (``<platform>.<app setting>`` and ``<platform>.base_url``) come from
the installed plugins' ``app_settings``; any other key is refused by ``bridge config set``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import AfterValidator, BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bridge.masking import looks_secret, mask_value

APP = "bridge"


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return value.rstrip("/")


def _db_url(value: str) -> str:
    if value.split("://", 1)[0].split("+", 1)[0] not in ("sqlite", "postgresql", "postgres"):
        raise ValueError("not a database URL")
    return value


def _fernet_key(value: str) -> str:
    from cryptography.fernet import Fernet

    try:
        Fernet(value.encode())
    except (ValueError, TypeError):
        raise ValueError("not a Fernet key") from None
    return value


def _scheme_url(*schemes: str):  # type: ignore[no-untyped-def]
    def check(value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not (parts.hostname or parts.path):
            raise ValueError("wrong scheme")
        return value
    return AfterValidator(check)


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Seconds = Annotated[int, Field(ge=1, le=7 * 86400)]


class Fields(BaseModel):
    """Every bridge-wide key (dots become underscores in field names)."""

    database_url: Annotated[str, AfterValidator(_db_url)] | None = None
    public_url: HttpUrl | None = None
    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8765
    workers: Annotated[int, Field(ge=1, le=64)] = 4
    secret_key: str | None = None  # checked where it is used (bridge.crypto) and by `config set`
    allow_private_networks: str | None = None
    interval_orders: Seconds = 60
    interval_inventory: Seconds = 60
    interval_tracking: Seconds = 300
    interval_products: Seconds = 900
    interval_listings: Seconds = 300
    interval_refunds: Seconds = 300
    interval_idle_max: Seconds = 3600
    interval_idle_max_unretried: Seconds = 900
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning", "error"] = "WARNING"
    smtp_host: Annotated[str, Field(min_length=1)] | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    smtp_starttls: bool = True
    alerts_held_after: Seconds = 3600
    alerts_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    alerts_per_hour: Annotated[int, Field(ge=1, le=1000)] = 10
    redis_url: Annotated[str, _scheme_url("redis", "rediss", "unix")] | None = None
    redis_namespace: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = "bridge"
    broker_url: Annotated[str, _scheme_url("redis", "rediss", "amqp", "amqps", "pyamqp")] | None = None


#: key -> (help, secret, expected form). Every field of :class:`Fields` has a line.
KEYS: dict[str, tuple[str, bool, str]] = {
    "database_url": ("SQLAlchemy URL of the state database (default: SQLite in the data dir)", False,
                     "a database URL such as sqlite:////var/lib/bridge/bridge.sqlite or "
                     "postgresql://user@host/bridge"),
    "public_url": ("Public base URL of the admin pages (OAuth redirects, webhook addresses); "
                   "default: where `bridge run` listens", False, "an http(s) URL such as https://bridge.example.com"),
    "host": ("Address `bridge run` listens on", False, "a host name or address such as 127.0.0.1"),
    "port": ("Port `bridge run` listens on", False, "a port number from 1 to 65535"),
    "workers": ("Worker threads of `bridge run`", False, "a whole number from 1 to 64"),
    "secret_key": ("Fernet key encrypting credentials (default: a key file beside the database)", True,
                   "a Fernet key (44 url-safe base64 characters, as `bridge init` makes)"),
    "allow_private_networks": ("Private/link-local networks or hosts bridge may call, comma-separated "
                               "(e.g. 10.0.0.0/8,shop.lan; * for all); refused by default", False,
                               "networks or host names, comma-separated (e.g. 10.0.0.0/8,shop.lan), or *"),
    "interval.orders": ("Seconds between orders syncs", False, "a whole number of seconds from 1 to 604800"),
    "interval.inventory": ("Seconds between inventory syncs", False, "a whole number of seconds from 1 to 604800"),
    "interval.tracking": ("Seconds between tracking syncs", False, "a whole number of seconds from 1 to 604800"),
    "interval.products": ("Seconds between product syncs", False, "a whole number of seconds from 1 to 604800"),
    "interval.listings": ("Seconds between checks of listings in review", False,
                          "a whole number of seconds from 1 to 604800"),
    "interval.refunds": ("Seconds between refunds syncs (returns, refunds, line cancellations)", False,
                         "a whole number of seconds from 1 to 604800"),
    "interval.idle_max": ("Longest wait between polls of a flow that keeps finding nothing while the "
                          "store pair's webhooks are live and its platforms retry failed deliveries "
                          "(doubled per idle run from the flow's interval)",
                          False, "a whole number of seconds from 1 to 604800"),
    "interval.idle_max_unretried": ("The same when a platform of the pair does not deliver a "
                                    "notification again after a failed delivery (WooCommerce): a lost "
                                    "one is only seen by polling", False,
                                    "a whole number of seconds from 1 to 604800"),
    "log_format": ("Log format", False, "text or json"),
    "log_level": ("Log verbosity of bridge's loggers", False, "DEBUG, INFO, WARNING or ERROR"),
    "smtp.host": ("SMTP server that sends alert e-mails (unset: no e-mail alerts)", False,
                  "a host name or address such as smtp.example.com"),
    "smtp.port": ("SMTP server port", False, "a port number from 1 to 65535 (587 with STARTTLS)"),
    "smtp.user": ("SMTP login (unset: no login)", False, "the SMTP account name"),
    "smtp.password": ("SMTP password", True, "the SMTP account's password"),
    "smtp.from": ("Sender address of alert e-mails", False, "an e-mail address such as bridge@example.com"),
    "smtp.starttls": ("Upgrade the SMTP connection with STARTTLS", False, "true or false"),
    "alerts.held_after": ("Seconds an order or tracking number may stay held before an alert", False,
                          "a whole number of seconds from 1 to 604800"),
    "alerts.failures": ("Failures in a row of a flow before an alert", False, "a whole number from 1 to 1000"),
    "alerts.per_hour": ("Most alerts sent per organization per hour (the rest wait)", False,
                        "a whole number from 1 to 1000"),
    "redis_url": ("Redis shared by every bridge process: rate limits, cost budgets and token "
                  "refresh across processes (unset: kept in each process)", True,
                  "a Redis URL such as redis://127.0.0.1:6379/0"),
    "redis_namespace": ("Prefix of bridge's Redis keys: one per deployment sharing a Redis", False,
                        "letters, digits, _ . : - (at most 64)"),
    "broker_url": ("Celery broker of `bridge worker` and `bridge run --scheduler` (scale-out, "
                   "docs/scale-out.md; unset: `bridge run` runs the flows itself)", True,
                   "a Redis or RabbitMQ URL such as redis://127.0.0.1:6379/1 or "
                   "amqp://user:password@127.0.0.1:5672//"),
}
#: Keys read from the environment only (they say where the file is).
ENV_ONLY = ("data_dir", "config_dir", "plugins", "trace_plugins", "test_database_url",
            "test_redis_url", "test_amqp_url", "user_password")

#: Compatibility view: key -> (default, help, secret).
DEFAULTS: dict[str, tuple[Any, str, bool]] = {
    k: (Fields.model_fields[k.replace(".", "_")].default, help_, secret)
    for k, (help_, secret, _) in KEYS.items()
}


def _field(key: str) -> str:
    return key.replace(".", "_")


def _key(field_name: str) -> str:
    for k in KEYS:
        if _field(k) == field_name:
            return k
    return field_name


class Settings(BaseSettings, Fields):
    """:class:`Fields` read from ``BRIDGE_*`` over the values of the config file."""

    model_config = SettingsConfigDict(env_prefix="BRIDGE_", extra="ignore", case_sensitive=False)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)  # the environment wins over the file (init)


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


_user_dirs: dict[tuple[str | None, ...], str] = {}


def _config_path() -> Path:
    """:func:`config_file` without making its directory (to read; :func:`load` runs for every
    setting read, several times per flow run): the user's configuration directory is found
    once per ``HOME`` / ``XDG_CONFIG_HOME``."""
    chosen = os.environ.get("BRIDGE_CONFIG_DIR")
    if not chosen:
        key = (os.environ.get("HOME"), os.environ.get("XDG_CONFIG_HOME"), os.environ.get("APPDATA"))
        chosen = _user_dirs.get(key)
        if chosen is None:
            chosen = _user_dirs[key] = platformdirs.user_config_dir(APP)
    return Path(chosen) / "config.json"


_generation = 0
_cache: dict[tuple[Any, ...], Settings] = {}
_runtime_public_url: str | None = None


def generation() -> int:
    """Bumped whenever this process writes the config file (for caches of derived values)."""
    return _generation


def _written() -> None:
    global _generation
    _generation += 1
    _cache.clear()


def env_name(key: str) -> str:
    return "BRIDGE_" + key.upper().replace(".", "_").replace("-", "_")


#: The config file as last read: path -> (its stamp, its values). Read again when the stamp
#: (modification time and size) changes, whoever wrote it: a webhook or a page asking for a
#: platform's settings does not read and parse the file each time.
_file_cache: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _read_file() -> dict[str, Any]:
    """The config file's values (a copy: callers may change it)."""
    path = config_file()
    stamp = _stamp(path)
    if stamp is None:
        return {}
    hit = _file_cache.get(str(path))
    if hit is None or hit[0] != stamp:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            from bridge.errors import Misconfigured

            raise Misconfigured(f"{path} is not valid JSON ({exc}): fix or delete it") from None
        hit = _file_cache[str(path)] = (stamp, data)
    return dict(hit[1])


def _one_line(exc: ValidationError, from_env: set[str]) -> str:
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else ""
    key = _key(name)
    expected = KEYS.get(key, ("", False, "a valid value"))[2]
    value = mask_value(key, err.get("input"), secret=KEYS.get(key, ("", False))[1])
    where = env_name(key) if name in from_env else f"{key} in {config_file()}"
    shown = f" ('{value}')"
    return f"{where} is invalid{shown}: expected {expected}"


def _env_key() -> tuple[tuple[Any, Any], ...]:
    """The ``BRIDGE_`` variables of the environment as they are now (a cache key): read from
    the environment's own mapping where there is one (no decoding of every variable: this runs
    for each setting read, several times per flow run)."""
    data = getattr(os.environ, "_data", None)
    if isinstance(data, dict) and data:
        prefix: Any = b"BRIDGE_" if isinstance(next(iter(data)), bytes) else "BRIDGE_"
        return tuple(sorted(kv for kv in data.items() if kv[0].startswith(prefix)))
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("BRIDGE_")))


def load() -> Settings:
    """The validated settings (environment over file), cached until the file or env changes.

    :raises Misconfigured: a value is invalid (one line naming the key or variable).
    """
    from bridge.errors import Misconfigured

    env_key = _env_key()
    path = _config_path()
    cache_key = (env_key, _generation, str(path), _stamp(path))
    hit = _cache.get(cache_key)
    if hit is not None:
        return hit
    stored = {_field(k): v for k, v in _read_file().items() if _field(k) in Fields.model_fields}
    from_env = {f for f in Fields.model_fields if os.environ.get(env_name(_key(f))) is not None}
    try:
        settings = Settings(**stored)
    except ValidationError as exc:
        raise Misconfigured(_one_line(exc, from_env)) from None
    _cache.clear()
    _cache[cache_key] = settings
    return settings


def _platform_key(key: str) -> tuple[str, str] | None:
    if key.count(".") != 1:
        return None
    platform, name = key.split(".")
    if platform == "interval":
        return None
    return platform, name


def require_known(key: str) -> None:
    """:raises Misconfigured: ``key`` is neither a bridge-wide key nor an installed platform's."""
    from bridge.errors import Misconfigured

    if key in KEYS:
        return
    pk = _platform_key(key)
    if pk is not None:
        from bridge.plugins import get_manager

        plugin = get_manager().platform_plugin(pk[0], strict=False)
        if plugin is not None and plugin.platform is not None:
            names = [a.name for a in plugin.platform.app_settings]
            if pk[1] in [*names, "base_url"]:
                return
            raise Misconfigured(f"unknown key '{key}': {pk[0]} takes "
                                + ", ".join(f"{pk[0]}.{n}" for n in [*names, "base_url"]))
    raise Misconfigured(f"unknown key '{key}': `bridge config list` shows the keys bridge knows")


def check(key: str, value: Any) -> Any:
    """The value ``bridge config set`` stores for ``key``, validated.

    :raises Misconfigured: unknown key or bad value (one line naming the key and the form).
    """
    from bridge.errors import Misconfigured

    require_known(key)
    if key == "secret_key":
        try:
            return _fernet_key(str(value))
        except ValueError:
            raise Misconfigured(f"secret_key: '********' is invalid: expected {KEYS[key][2]}") from None
    if key in KEYS:
        try:
            model = Fields.model_validate({_field(key): value})
        except ValidationError:
            raise Misconfigured(f"{key}: '{mask_value(key, value, secret=KEYS[key][1])}' is invalid: "
                                f"expected {KEYS[key][2]}") from None
        return getattr(model, _field(key))
    if key.endswith(".base_url"):
        from bridge.http import check_base_url

        try:
            return check_base_url(_http_url(str(value)))
        except (ValueError, Misconfigured):
            raise Misconfigured(f"{key}: '{value}' is invalid: expected an http(s) URL such as "
                                "http://127.0.0.1:8001 (a sandbox) or https://api.example.com") from None
    return str(value)


def get(key: str, default: Any = None) -> Any:
    """The value of ``key``: environment, then file, then the built-in default (typed for the
    keys of :class:`Settings`)."""
    if key in KEYS:
        value = getattr(load(), _field(key))
        return default if value is None else value
    env = os.environ.get(env_name(key))
    if env is not None:
        return env
    stored = _read_file()
    if key in stored:
        return stored[key]
    return default


def get_int(key: str, default: int) -> int:
    try:
        return int(get(key, default))
    except (TypeError, ValueError):
        return default


def explicit_public_url() -> str | None:
    """The public URL as configured (environment or file), or None when it is not set."""
    return load().public_url


def set_runtime_public_url(url: str | None) -> None:
    """``bridge run`` records where it listens: the public URL when none is configured."""
    global _runtime_public_url
    _runtime_public_url = url.rstrip("/") if url else None


def public_url() -> str:
    """The base URL of the admin pages: configured, else where ``bridge run`` listens."""
    s = load()
    if s.public_url:
        return s.public_url
    if _runtime_public_url:
        return _runtime_public_url
    host = "127.0.0.1" if s.host in ("0.0.0.0", "::", "") else s.host
    return f"http://{host}:{s.port}"


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
    """Whether ``key``'s value is masked: as declared for bridge's own keys, else by its name
    (:func:`bridge.masking.looks_secret`)."""
    if key in KEYS:
        return KEYS[key][1]
    return looks_secret(key)


def all_values() -> dict[str, tuple[Any, str]]:
    """Every known or set key with its value and where it came from (env/file/default)."""
    out: dict[str, tuple[Any, str]] = {}
    stored = _read_file()
    keys = set(KEYS) | set(stored)
    keys |= {
        k[len("BRIDGE_"):].lower() for k in os.environ
        if k.startswith("BRIDGE_") and k[len("BRIDGE_"):].lower() not in ENV_ONLY
        and not k.startswith("BRIDGE_CONNECT_")
    }
    env_to_key = {env_name(k): k for k in KEYS}
    for key in sorted(keys):
        key = env_to_key.get(env_name(key), key)
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
