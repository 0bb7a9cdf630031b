"""Users, passwords (Argon2id), server-side sessions, CSRF tokens and login throttling.

The session cookie holds a random token; the ``web_sessions`` row keeps only its SHA-256, the
user and the session's CSRF token. Logging out deletes the row, so a copied cookie dies with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import col, delete, select

from bridge import db
from bridge.errors import Misconfigured
from bridge.tables import Membership, Organization, User, WebSession, utcnow

COOKIE = "bridge_session"
LOGIN_CSRF_COOKIE = "bridge_login_csrf"
SESSION_DAYS = 7
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # Argon2id, memory-hard (64 MiB, 3 passes by default)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY = hash_password(secrets.token_hex(16))


def create_user(email: str, password: str, *, operator: bool = False,
                orgs: list[str | int] | None = None) -> User:
    """Create a user (or add organizations to an existing one is refused: one-line error)."""
    from bridge.stores import get_org

    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise Misconfigured(f"'{email}' is not an email address")
    if len(password) < MIN_PASSWORD:
        raise Misconfigured(f"the password needs at least {MIN_PASSWORD} characters")
    org_rows = [get_org(ref) for ref in orgs or []]
    with db.session() as s:
        if s.exec(select(User).where(User.email == email)).first():
            raise Misconfigured(f"user '{email}' already exists: pick another email")
        user = User(email=email, password_hash=hash_password(password), is_operator=operator)
        s.add(user)
        s.flush()
        for org in org_rows:
            s.add(Membership(user_id=user.id, org_id=org.id))  # type: ignore[arg-type]
        s.refresh(user)
        return user


def add_membership(email: str, org_ref: str | int) -> None:
    from bridge.stores import get_org

    org = get_org(org_ref)
    with db.session() as s:
        user = s.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise Misconfigured(f"no user '{email}': create it with `bridge user create`")
        if s.get(Membership, (user.id, org.id)) is None:
            s.add(Membership(user_id=user.id, org_id=org.id))  # type: ignore[arg-type]


def authenticate(email: str, password: str) -> User | None:
    """The user when the password matches, else None (constant work either way)."""
    with db.session() as s:
        user = s.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        verify_password(_DUMMY, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def user_org_ids(user: User) -> set[int] | None:
    """The organizations a user may see; None means all (an operator)."""
    if user.is_operator:
        return None
    with db.session() as s:
        return {m.org_id for m in s.exec(select(Membership).where(Membership.user_id == user.id))}


def visible_orgs(user: User) -> list[Organization]:
    ids = user_org_ids(user)
    with db.session() as s:
        q = select(Organization).order_by(Organization.name)
        if ids is not None:
            q = q.where(col(Organization.id).in_(ids or {-1}))
        return list(s.exec(q))


# --------------------------------------------------------------------------- sessions


@dataclass
class SessionInfo:
    """The current signed-in session."""

    id: str
    user: User
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> tuple[str, SessionInfo]:
    """Create a session; returns the cookie token (shown once) and the session."""
    token = secrets.token_urlsafe(32)
    row = WebSession(id=_digest(token), user_id=user.id, csrf=secrets.token_urlsafe(32),  # type: ignore[arg-type]
                     expires_at=utcnow() + timedelta(days=SESSION_DAYS))
    with db.session() as s:
        s.exec(delete(WebSession).where(col(WebSession.expires_at) < utcnow()))  # type: ignore[call-overload]
        s.add(row)
    return token, SessionInfo(row.id, user, row.csrf)


def load_session(token: str | None) -> SessionInfo | None:
    if not token:
        return None
    with db.session() as s:
        row = s.get(WebSession, _digest(token))
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
        if expires < utcnow():
            s.delete(row)
            return None
        user = s.get(User, row.user_id)
        if user is None:
            return None
        return SessionInfo(row.id, user, row.csrf)


def end_session(session_id: str) -> None:
    with db.session() as s:
        s.exec(delete(WebSession).where(col(WebSession.id) == session_id))  # type: ignore[call-overload]


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(
        str(expected).encode("utf-8", "replace"), str(given).encode("utf-8", "replace"))


# --------------------------------------------------------------------------- throttling


class Throttle:
    """Failed logins per key within ``window`` seconds. A client address with ``limit``
    failures is refused (:meth:`blocked`); an account with as many is only answered more slowly
    (:meth:`account_delay`), so a stranger cannot lock its owner out. A success clears the
    account's count."""

    #: Longest extra wait before an answer about an account under attack (seconds).
    MAX_DELAY = 1.0

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> float:
        """Seconds to wait (0 when allowed)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._trim(key, now)
                if len(q) >= self.limit:
                    wait = max(wait, self.window - (now - q[0]))
        return wait

    def account_delay(self, key: str) -> float:
        """Seconds to wait before checking a password of this account: 0 below ``limit``
        failures, then growing to :data:`MAX_DELAY` (slower guessing, never a refusal)."""
        with self._lock:
            over = len(self._trim(key, time.monotonic())) - self.limit + 1
        return 0.0 if over <= 0 else min(self.MAX_DELAY, 0.1 * 2 ** (over - 1))

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._trim(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)
