"""Connecting a store: OAuth and the platforms' other app callbacks, validating credentials,
and what must be set up on the platform before the flows can run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.connection import AppContext, Connection
    from bridge.models import (
        CallbackResult,
        Prerequisite,
        StoreInfo,
        WebhookRequest,
    )


@hookspec(firstresult=True)
def authorization_url(app: AppContext, state: str, redirect_uri: str, settings: dict[str, Any]) -> str:
    """Return the URL to send the user to so they authorize bridge (OAuth).

    :param app: bridge-wide app settings of the platform (client id/secret) and the HTTP layer.
    :param state: an unguessable value the core verifies on the callback; put it in the URL.
    :param redirect_uri: where the platform must send the user back.
    :param settings: what the user typed before (e.g. a shop domain, a region).
    :raises Misconfigured: the app settings are missing.
    """


@hookspec(firstresult=True)
def exchange_code(app: AppContext, params: dict[str, Any], redirect_uri: str) -> list[StoreInfo]:
    """Complete an OAuth callback: verify it, exchange the code for tokens.

    :param params: the callback's query parameters, exactly as received (``state`` has already
        been checked by the core; verify the platform's own signature of the query, where it
        signs one).
    :returns: one :class:`~bridge.models.StoreInfo` per store the authorization covers (one
        authorization may cover several shops of a seller), each with ``credentials`` to keep.
    :raises NeedsReconnect: the code is invalid or expired. :raises Rejected: bad signature.
    """


@hookspec(firstresult=True)
def app_callback(app: AppContext, name: str, request: WebhookRequest) -> CallbackResult:
    """Handle a platform's app callback other than OAuth (keys handed over, install/load/
    uninstall with a signed payload, integration activation).

    The admin pages route ``/callbacks/<platform>/<name>`` here, knowing no platform.

    :param name: the callback's name as the plugin chose it in its URLs (e.g. ``"keys"``,
        ``"load"``, ``"activate"``).

    A callback that is the end of a flow bridge started carries ``?state=`` in its address: the
    core checks it before calling this hook; a plugin whose callback can only come from such a
    flow refuses one without a state *before any request*, and passes any address taken from
    the request through :func:`bridge.outbound.check_base_url`. Stores handed over without a
    state (an install started on the platform's side) wait for the signed-in user to choose
    their organization.

    :returns: the stores it connected or uninstalled, and what to answer.
    :raises WebhookRejected: the payload's signature is wrong.
    """


@hookspec(firstresult=True)
def connect(connection: Connection) -> StoreInfo:
    """Validate the connection's settings and credentials against the platform.

    Called by ``bridge connect PLATFORM`` with given credentials, and again by ``bridge doctor``.
    Must make at least one authenticated call so bad credentials fail here, not later.

    :returns: :class:`~bridge.models.StoreInfo` with the remote id, name, domain, currency,
        region and timezone; ``credentials``/``settings`` to keep if the plugin derived any
        (e.g. a token for a client-credentials grant); ``warnings`` for the user.
    :raises NeedsReconnect: the credentials are refused. :raises Misconfigured: bad URL/settings.
    """


@hookspec(firstresult=True)
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    """Report what must be set up on the platform before flows can run.

    Shown at connect time and by ``bridge doctor``. Each item says what is wrong and how to fix
    it where the platform's UI lives. A blocking item stops the flows it names. Read-only.
    """
