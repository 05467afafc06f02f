"""Dashboard sessions: a signed cookie naming the user, its CSRF token and its expiry.

The cookie is `base64url(JSON).base64url(HMAC-SHA256)` under a secret kept in the
workspace (`session.key`, made on first use, readable by its owner only). It holds no role:
the role is read from the store on every request, so disabling a user or changing a role
takes effect at once. Failed logins are throttled per client and user name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

SESSION_COOKIE = "crew_session"
LOGIN_CSRF_COOKIE = "crew_login_csrf"
SECRET_FILE = "session.key"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Session:
    """Who is logged in, the token their forms must carry, and until when."""

    user: str
    csrf: str
    expires: float


def session_secret(root: Path) -> bytes:
    """The workspace's session secret, created (mode 0600) the first time it is needed."""
    path = root / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secret.hex())
    return secret


class SessionCodec:
    """Sign and check session cookies with one secret."""

    def __init__(self, secret: bytes, *, seconds: int = SESSION_SECONDS) -> None:
        self._secret = secret
        self.seconds = seconds

    def new(self, user: str, *, now: float | None = None) -> Session:
        """A fresh session for `user` with a new CSRF token."""
        now = time.time() if now is None else now
        return Session(user=user, csrf=secrets.token_urlsafe(24), expires=now + self.seconds)

    def encode(self, session: Session) -> str:
        """The cookie value of `session`.

        >>> codec = SessionCodec(b"k" * 32)
        >>> codec.decode(codec.encode(Session("ann", "t", 2e9)), now=1e9)
        Session(user='ann', csrf='t', expires=2000000000.0)
        """
        body = json.dumps({"u": session.user, "c": session.csrf, "e": session.expires})
        payload = _b64(body.encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def decode(self, value: str | None, *, now: float | None = None) -> Session | None:
        """The session in a cookie value; None when absent, forged, malformed or expired.

        >>> codec = SessionCodec(b"k" * 32)
        >>> cookie = codec.encode(Session("ann", "t", 2e9))
        >>> forged = "e30." + cookie.split(".")[1]  # another payload under the same signature
        >>> codec.decode(forged), codec.decode(cookie, now=3e9)
        (None, None)
        """
        if not value or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(user=str(data["u"]), csrf=str(data["c"]), expires=float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        now = time.time() if now is None else now
        return session if session.expires > now else None

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class LoginThrottle:
    """At most `attempts` failed logins per client and user name within `window` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def wait_for(self, client: str, user: str, *, now: float | None = None) -> float:
        """Seconds before this client may try `user` again (0 when it may now).

        >>> t = LoginThrottle(attempts=2, window=60)
        >>> for at in (0, 1): t.failed("ip", "ann", now=at)
        >>> t.wait_for("ip", "ann", now=2), t.wait_for("ip", "bob", now=2)
        (58.0, 0.0)
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent((client, user.lower()), now)
            if len(times) < self.attempts:
                return 0.0
            return float(times[0] + self.window - now)

    def failed(self, client: str, user: str, *, now: float | None = None) -> None:
        """Count one failed login."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent((client, user.lower()), now).append(now)

    def succeeded(self, client: str, user: str) -> None:
        """Forget the failures of a client and user that just logged in."""
        with self._lock:
            self._failures.pop((client, user.lower()), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "LoginThrottle",
    "Session",
    "SessionCodec",
    "session_secret",
]
