"""Bearer credentials (RFC 6750), compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Iterable


def bearer_matches(headers: Iterable[tuple[bytes, bytes]], token: str | None) -> bool:
    """Whether the request's Authorization is exactly ``Bearer <token>``. The whole
    value is compared with ``hmac.compare_digest``, so the time taken says nothing
    about how much of it was right; no token configured matches nothing."""
    if token is None:
        return False
    given = next((value for name, value in headers if name == b"authorization"), b"")
    return hmac.compare_digest(given, f"Bearer {token}".encode())
