"""The outbound policy: which addresses bridge may send a request to.

Every base URL (a store, a sandbox, an image's origin, an address a callback hands over) passes
:func:`check_base_url` before a client is made for it:

- ``https`` anywhere public; plain ``http`` only to loopback (sandboxes on this machine);
- loopback (``127.0.0.0/8``, ``::1``, ``localhost``) is allowed, as sandboxes live there;
- private, link-local (cloud metadata ``169.254.169.254`` included), carrier-grade NAT, unique
  local (``fc00::/7``), multicast, reserved and unspecified addresses are refused, and so are the
  metadata host names, unless the operator allows them with the ``allow_private_networks``
  setting (``BRIDGE_ALLOW_PRIVATE_NETWORKS``): a comma-separated list of networks or host
  names (``10.0.0.0/8,shop.lan``), or ``*`` for all;
- numeric host spellings a resolver reads as an address (``2130706433``, ``0x7f.1``) are judged
  as that address.

Host names are judged by name (no DNS lookup here): a public name that resolves to a private
address is stopped by the platform's own https certificate, not by this check.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from bridge.errors import Misconfigured

ALLOW_SETTING = "allow_private_networks"
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog",
                            "instance-data", "instance-data.ec2.internal"})
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.I)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(Misconfigured):
    """An address the outbound policy refuses (the message says why and how to allow it)."""


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _address(host)
    return address is not None and address.is_loopback


def _address(host: str) -> Address | None:
    """The address a host names literally (dotted, bracketed IPv6 or a numeric spelling)."""
    host = host.strip("[]").lower()
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if not _NUMERIC_HOST.match(host):
            return None
        try:  # the C resolver's forms: 2130706433, 0x7f.1, 127.1
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _allowed_by_operator(host: str, address: Address | None) -> bool:
    from bridge import config

    raw = config.get(ALLOW_SETTING)
    if raw in (None, ""):
        return False
    entries = raw if isinstance(raw, list) else str(raw).split(",")
    for entry in (str(e).strip().lower() for e in entries):
        if not entry:
            continue
        if entry == "*" or entry == host:
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def refusal(host: str) -> str | None:
    """Why the policy refuses ``host`` (None: allowed)."""
    host = host.strip("[]").lower().rstrip(".")
    if is_loopback(host):
        return None
    address = _address(host)
    if address is None:
        if host in METADATA_NAMES:
            kind = "a cloud metadata service"
        else:
            return None
    elif address.is_link_local:
        kind = "a link-local address (cloud metadata lives there)"
    elif address.is_unspecified or address.is_multicast or address.is_reserved:
        kind = "not a host address"
    elif address.is_private or (isinstance(address, ipaddress.IPv4Address)
                                and address in ipaddress.ip_network("100.64.0.0/10")):
        kind = "a private network address"
    elif not address.is_global:
        kind = "not a public address"
    else:
        return None
    if _allowed_by_operator(host, address):
        return None
    return (f"bridge does not send requests to {host}: {kind}; an operator who means it can allow "
            f"it with `bridge config set {ALLOW_SETTING} {host}` (networks or host names, "
            "comma-separated)")


def check_base_url(url: str) -> str:
    """Validate a base URL against the policy. Returns it without a trailing slash.

    :raises OutboundRefused: not http(s), plain http off loopback, or a refused address.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # a malformed port raises here
    except ValueError:
        raise OutboundRefused(f"'{url}' is not a valid URL: give a full URL such as "
                              "https://shop.example.com") from None
    if parts.scheme not in ("http", "https") or not host:
        raise OutboundRefused(f"'{url}' is not an http(s) URL: give a full URL such as "
                              "https://shop.example.com")
    if parts.scheme == "http" and not is_loopback(host):
        raise OutboundRefused(f"plain http is refused for {host}: use https (http is allowed "
                              "for loopback sandboxes only)")
    reason = refusal(host)
    if reason:
        raise OutboundRefused(reason)
    return url.rstrip("/")
