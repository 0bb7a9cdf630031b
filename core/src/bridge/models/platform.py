"""Describing a platform and connecting a store."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from bridge.models.base import Kind, _Model


class Setting(_Model):
    """One setting a connection needs; becomes an option of ``bridge connect PLATFORM``."""

    name: str
    type: Literal["str", "int", "bool", "url", "choice"] = "str"
    help: str = ""
    required: bool = False
    secret: bool = False
    default: Any = None
    choices: list[str] | None = None


class AppSetting(_Model):
    """A bridge-wide setting of a platform (an OAuth app's key and secret), read from the
    environment ``BRIDGE_<PLATFORM>_<NAME>`` or ``bridge config``."""

    name: str
    help: str = ""
    secret: bool = False
    required: bool = False
    default: Any = None


class PlatformInfo(_Model):
    """What a plugin says of its platform (``describe_platform``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    display_name: str
    settings: list[Setting] = []
    app_settings: list[AppSetting] = []
    connect_methods: list[Literal["credentials", "oauth", "callback"]] = ["credentials"]
    webhooks: bool = False
    """True when the platform pushes change notifications; False means bridge polls."""
    regions: list[str] | None = None
    docs_url: str | None = None


class Capability(_Model):
    """One operation a platform implements (derived from its hook implementations)."""

    operation: str




class StoreInfo(_Model):
    """What connecting learns of a remote store."""

    remote_id: str
    name: str
    domain: str | None = None
    currency: str
    region: str | None = None
    timezone: str | None = None
    credentials: dict[str, Any] = {}
    """Secrets to keep (encrypted) for this store: tokens, keys. Never logged."""
    settings: dict[str, Any] = {}
    """Non-secret settings to keep (base URL, API version, shop cipher, ...)."""
    auth_expires_at: datetime | None = None
    """When the authorization itself ends (not the access token); warnings are raised before."""
    details: dict[str, Any] = {}
    """Facts to show the user (plan, versions, seller type, warnings)."""
    warnings: list[str] = []


class CallbackResult(_Model):
    """What an app callback (install, load, key hand-over, activation) produced."""

    stores: list[StoreInfo] = []
    uninstalled_remote_ids: list[str] = []
    response_status: int = 200
    response_body: str = ""
    redirect_to: str | None = None


class Prerequisite(_Model):
    """One line of a prerequisites checklist (``bridge doctor``, the connect flow)."""

    key: str
    title: str
    ok: bool
    detail: str = ""
    fix: str = ""
    blocking: bool = True
    flows: list[str] = []
    """The flows this blocks when not ok (empty: all)."""
