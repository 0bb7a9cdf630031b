"""Where alerts go: e-mail over SMTP (stdlib ``smtplib``) and a Slack-compatible JSON webhook
(``POST {"text": ...}`` through the core's HTTP client and outbound policy).

Each sender raises :class:`SendFailed` with one line that names the server (host and port) but
never a password or a webhook URL's path (Slack's path is the secret).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from bridge import config
from bridge.errors import BridgeError, Misconfigured

#: Seconds an SMTP server or a webhook may take: the alert check runs beside the jobs, never
#: in a flow, and a dead server must not hold it for long.
TIMEOUT = 10.0


class SendFailed(Exception):
    """An alert could not be delivered on one channel (retried at the next check)."""


def smtp_ready() -> str | None:
    """None when e-mail can be sent, else what to set."""
    s = config.load()
    if not s.smtp_host:
        return "smtp.host is not set: `bridge config set smtp.host smtp.example.com` (and smtp.from)"
    if not s.smtp_from:
        return "smtp.from is not set: `bridge config set smtp.from bridge@example.com`"
    return None


def send_email(to: list[str], subject: str, body: str) -> None:
    """Send one plain-text e-mail to ``to`` through the configured SMTP server.

    :raises SendFailed: not configured, refused or unreachable (one line, no secret).
    """
    missing = smtp_ready()
    if missing:
        raise SendFailed(missing)
    s = config.load()
    host, port = str(s.smtp_host), s.smtp_port
    msg = EmailMessage()
    msg["From"] = str(s.smtp_from)
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=str(s.smtp_from).rsplit("@", 1)[-1])
    msg.set_content(body)
    try:
        if port == 465:  # implicit TLS
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT,
                                                   context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with client:
            client.ehlo()
            if s.smtp_starttls and port != 465:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if s.smtp_user:
                client.login(s.smtp_user, s.smtp_password or "")
            refused = client.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendFailed(f"SMTP server {host}:{port} refused the login of smtp.user ({exc.smtp_code}): "
                         "check smtp.user and smtp.password") from None
    except smtplib.SMTPNotSupportedError:
        raise SendFailed(f"SMTP server {host}:{port} does not offer STARTTLS: use its TLS port or "
                         "`bridge config set smtp.starttls false` on a trusted network") from None
    except smtplib.SMTPResponseException as exc:
        raise SendFailed(f"SMTP server {host}:{port} answered {exc.smtp_code}: "
                         f"{_text(exc.smtp_error)}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendFailed(f"SMTP server {host}:{port} refused every recipient "
                         f"({', '.join(exc.recipients)})") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(f"cannot send e-mail through {host}:{port}: {type(exc).__name__}: "
                         "check smtp.host, smtp.port and that the server is reachable from here") from None
    if refused:
        raise SendFailed(f"SMTP server {host}:{port} refused {', '.join(refused)}")


def _text(raw: bytes | str) -> str:
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw))[:200]


def webhook_host(url: str) -> str:
    """The URL shown where a person or a log sees it: scheme and host, the path hidden."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path not in ("", "/") else f"{parts.scheme}://{parts.netloc}"


def check_webhook_url(url: str) -> str:
    """The URL, checked by the outbound policy (https, or http to loopback).

    :raises Misconfigured: not an http(s) URL, or an address bridge may not call.
    """
    from bridge.outbound import check_base_url

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Misconfigured("the alert webhook must be an http(s) URL such as "
                            "https://hooks.slack.com/services/...")
    check_base_url(f"{parts.scheme}://{parts.netloc}")
    return url.strip()


def send_webhook(url: str, text: str) -> None:
    """POST ``{"text": text}`` to a Slack-compatible incoming webhook.

    :raises SendFailed: refused by the outbound policy, unreachable or not a 2xx answer.
    """
    from bridge.http import make_client

    parts = urlsplit(url)
    shown = webhook_host(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        client = make_client(f"{parts.scheme}://{parts.netloc}", platform="alerts", max_retries=0,
                             timeout=TIMEOUT, secrets=[s for s in (parts.path, parts.query) if len(s) > 1])
    except BridgeError as exc:
        raise SendFailed(f"alert webhook {shown}: {exc}") from None
    try:
        # a second copy of an alert beats a lost one: a 5xx is an answer to report, not unknown
        response = client.post(path, json={"text": text}, idempotent=True)
    except BridgeError as exc:
        raise SendFailed(f"alert webhook {shown} could not be reached ({type(exc).__name__}): check "
                         "the URL and that the service is reachable from here") from None
    finally:
        client.close()
    if not 200 <= response.status_code < 300:
        raise SendFailed(f"alert webhook {shown} answered {response.status_code}: check the URL "
                         "(a revoked Slack webhook answers 404 or 410)")
