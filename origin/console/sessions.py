"""Console sessions as plain values: what a session record holds, when it ends,
the cookies that carry it, and the CSRF check of a state-changing request.

A session is kept on the server (in the storage's records, so every instance
over one store knows it, and sign-out ends it everywhere); the cookie carries
only a random identifier, and the record is named by that identifier's hash,
so a listing of the records gives no one a usable cookie. A new identifier is
made at every sign-in, whatever cookie came with it: an identifier planted
before sign-in (session fixation) is never promoted. No I/O, no randomness of
its own: the caller passes the random bytes and the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from http.cookies import CookieError, SimpleCookie

COOKIE = "mo_console"  # the session's identifier
SIGN_IN_COOKIE = "mo_console_signin"  # the sign-in form's CSRF token, before any session
COOKIE_PATH = "/_console/"
SESSIONS = "console/sessions"  # the records' folder


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str  # the token every state-changing request of this session carries
    created_at: float
    expires_at: float

    def live(self, now: float) -> bool:
        return now < self.expires_at


def new_session(identifier: str, csrf: str, now: float, hours: float) -> tuple[str, Session]:
    """(the record's name, the session) for a fresh identifier."""
    return record_name(identifier), Session(csrf, now, now + hours * 3600)


def record_name(identifier: str) -> str:
    digest = hashlib.sha256(identifier.encode()).hexdigest()
    return f"{SESSIONS}/{digest}.json"


def to_record(session: Session) -> bytes:
    return json.dumps(asdict(session), sort_keys=True).encode()


def from_record(data: bytes) -> Session | None:
    try:
        fields = json.loads(data)
        session = Session(
            str(fields["csrf"]), float(fields["created_at"]), float(fields["expires_at"])
        )
    except (ValueError, TypeError, KeyError):
        return None
    return session if session.csrf else None


def cookie_named(cookie_header: str | None, name: str) -> str | None:
    """A cookie's value from the request's Cookie header; None when absent or
    not one this console could have set (an identifier is URL-safe base64)."""
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(name)
    if morsel is None:
        return None
    value = morsel.value
    valid = 16 <= len(value) <= 128 and all(c.isalnum() or c in "-_" for c in value)
    return value if valid else None


def set_cookie(name: str, value: str, secure: bool, max_age: int) -> str:
    """HttpOnly (no script reads it), SameSite=Strict (no other site's page
    sends it), Secure when the console is reached over https, and scoped to the
    console's own path."""
    parts = [f"{name}={value}", f"Path={COOKIE_PATH}", f"Max-Age={max_age}"]
    parts += ["HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def cleared_cookie(name: str, secure: bool) -> str:
    return set_cookie(name, "", secure, 0)


def csrf_valid(expected: str | None, given: str | None) -> bool:
    """Constant time; a missing token on either side is never valid."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
