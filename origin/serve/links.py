"""The links the origin hands out, as pure functions, so the server, ``media-origin
sign`` and the upload API agree: versioned links (``?v=`` and 48 bits of the
content hash) and signed, expiring links for private folders.

The signature is hex HMAC-SHA256 over ``<path>\\n<expires>``, where path is the
decoded URL path (``/invoices/INV 1.pdf``) and expires is Unix seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import parse_qs, quote

_DURATION = re.compile(r"([0-9]+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

# Unix seconds stay within 12 digits until the year 9999 (the last year date libraries
# format); 18 is generous and still far below int()'s 4,300-digit limit. A longer
# ``expires`` (leading zeros aside) is refused as malformed before int() sees it,
# so a hostile query is a 403, never a 500 or seconds of conversion.
MAX_EXPIRES_DIGITS = 18
# Nine digits are more than any expiry needs (10**9 seconds is 31 years, 10**9 days
# is longer than history), and keep int() away from a pasted run of thousands of digits.
MAX_DURATION_DIGITS = 9


VERSION_HEX = 12  # the ?v= of a versioned link: 48 bits of the content hash


def version_of(content_hash: str) -> str:
    """The ``?v=`` value naming these bytes."""
    return content_hash[:VERSION_HEX]


def signature(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_query(key: bytes, path: str, expires: int) -> str:
    return f"expires={expires}&sig={signature(key, path, expires)}"


def signed_url(base_url: str, key: bytes, path: str, expires: int) -> str:
    return f"{base_url}{quote(path)}?{signed_query(key, path, expires)}"


def verify(key: bytes, path: str, query_string: str, now: float) -> str | None:
    """None if the query carries a valid, unexpired signature for ``path``; else why not."""
    query = parse_qs(query_string, keep_blank_values=True)
    expires_values, sig_values = query.get("expires", []), query.get("sig", [])
    if len(expires_values) != 1 or len(sig_values) != 1:
        return "this link needs ?expires=...&sig=..."
    expires_text, given = expires_values[0], sig_values[0]
    if not expires_text.isascii() or not expires_text.isdigit():
        return "expires is not a whole number of seconds"
    significant = expires_text.lstrip("0") or "0"  # int() counts leading zeros too
    if len(significant) > MAX_EXPIRES_DIGITS:
        return "expires is out of range"
    expires = int(significant)
    expected = signature(key, path, expires)
    # compare_digest raises on non-ASCII text: such a sig is simply not the signature.
    if not given.isascii() or not hmac.compare_digest(expected, given.lower()):
        return "the signature does not match this path and expiry"
    if expires <= now:
        return "this link has expired"
    return None


def parse_duration(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``1h``, ``7d`` -> seconds; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or len(match.group(1)) > MAX_DURATION_DIGITS or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 1h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]
