"""HTTP-date parsing and formatting (RFC 9110 section 5.6.7), on top of email.utils."""

from __future__ import annotations

from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache


def format_http_date(seconds: float) -> str:
    """IMF-fixdate, e.g. ``Tue, 22 Feb 2022 22:22:22 GMT``."""
    return formatdate(int(seconds), usegmt=True)


# The longest of the three forms, RFC 850's "Wednesday, 09-Nov-94 08:49:37 GMT", is 33
# characters; this leaves room for the spaces a sender may add. Anything longer is
# not an HTTP-date, is refused before it is parsed, and is never remembered, so the
# memo holds at most DATE_MEMO_ENTRIES short strings (a couple of megabytes at most).
MAX_HTTP_DATE_CHARS = 64
DATE_MEMO_ENTRIES = 4096


def parse_http_date(value: str) -> int | None:
    """Whole seconds since the epoch, or None for anything that is not one HTTP-date.

    Recipients must accept IMF-fixdate, RFC 850 and asctime forms; a value that
    holds a list of dates (more than the one comma a date itself may have) is
    invalid, and an invalid date must be ignored by the caller, never an error.
    Memoised: clients send the Last-Modified they were given, a few values.
    """
    if len(value) > MAX_HTTP_DATE_CHARS:
        return None
    return _memoised_parse_http_date(value)


@lru_cache(maxsize=DATE_MEMO_ENTRIES)
def _memoised_parse_http_date(value: str) -> int | None:
    if value.count(",") > 1:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        # asctime dates carry no zone; HTTP-dates are always GMT.
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return int(parsed.timestamp())
    except (OverflowError, OSError, ValueError):
        return None
