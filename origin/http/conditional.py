"""Conditional requests (RFC 9110 section 13.2.2), as pure functions of header values.

The validators compared are the ones the response carries: a folder whose
policy turns the ETag or Last-Modified off behaves as if the representation
had none, so a client is never asked to match a validator it was never sent.
"""

from __future__ import annotations

from typing import NamedTuple

from origin.http.dates import parse_http_date
from origin.http.etags import ANY, ETag, parse_etag_list, strong_match, weak_match


class Preconditions(NamedTuple):
    """The request's precondition header values (None where absent)."""

    if_match: str | None = None
    if_unmodified_since: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None


NO_PRECONDITIONS = Preconditions()


def evaluate_preconditions(
    preconditions: Preconditions,
    etag: ETag | None,
    last_modified: int | None,
) -> int | None:
    """412 or 304 if a precondition decides the response, None to go on (GET/HEAD).

    The steps are the RFC's, in its order.
    """
    if preconditions.if_match is not None:
        # Step 1: If-Match, strong comparison; "*" passes for any existing file.
        tags = parse_etag_list(preconditions.if_match)
        if tags != ANY and not (isinstance(tags, tuple) and strong_match(tags, etag)):
            return 412
    elif preconditions.if_unmodified_since is not None and last_modified is not None:
        # Step 2: If-Unmodified-Since, only without If-Match; bad dates are ignored.
        date = parse_http_date(preconditions.if_unmodified_since)
        if date is not None and last_modified > date:
            return 412
    if preconditions.if_none_match is not None:
        # Step 3: If-None-Match, weak comparison.
        tags = parse_etag_list(preconditions.if_none_match)
        if tags == ANY or (isinstance(tags, tuple) and weak_match(tags, etag)):
            return 304
    elif preconditions.if_modified_since is not None and last_modified is not None:
        # Step 4: If-Modified-Since, only without If-None-Match.
        date = parse_http_date(preconditions.if_modified_since)
        if date is not None and last_modified <= date:
            return 304
    return None


def if_range_allows(if_range: str | None, etag: ETag | None, last_modified: int | None) -> bool:
    """Step 5: whether a Range may be honoured (True when there is no If-Range).

    An entity-tag must match strongly; a date must equal Last-Modified exactly.
    Anything else, weak tags included, means "send the whole representation".
    """
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        tag = ETag.parse(value)
        return tag is not None and strong_match((tag,), etag)
    date = parse_http_date(value)
    return date is not None and last_modified is not None and date == last_modified
