"""What a GET or HEAD of a stored file gets, decided from its representation and
the request's headers alone: preconditions, then Range, then the body (RFC 9110
section 13.2.2). Pure: no I/O, so every path through it is a table test."""

from __future__ import annotations

from typing import NamedTuple

from origin.http.conditional import (
    NO_PRECONDITIONS,
    Preconditions,
    evaluate_preconditions,
    if_range_allows,
)
from origin.http.ranges import ByteRange, Unsatisfiable, parse_range
from origin.serve.representation import Representation
from origin.serve.responses import PRECONDITION_FAILED, Headers, Response, plain

_CONDITIONAL_HEADERS = frozenset(
    {b"if-match", b"if-unmodified-since", b"if-none-match", b"if-modified-since"}
)
_RANGE_HEADERS = frozenset({b"range", b"if-range"})
_INTERESTING = _CONDITIONAL_HEADERS | _RANGE_HEADERS


class Body(NamedTuple):
    """A 200 or 206 that sends the file's bytes ``[start, stop)`` under ``headers``
    (a NamedTuple: one is made per GET)."""

    status: int
    headers: Headers
    start: int
    stop: int


def interesting_headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """The precondition and range headers; repeated lines are joined as a list."""
    found: dict[bytes, str] = {}
    for name, value in raw:
        if name in _INTERESTING:
            text = value.decode("latin-1")
            found[name] = f"{found[name]}, {text}" if name in found else text
    return found


def decide(
    representation: Representation, method: str, request_headers: dict[bytes, str]
) -> Response | Body:
    """A complete answer (304, 412, 416, a HEAD's 200), or the Body to send."""
    if request_headers:
        status = evaluate_preconditions(
            _preconditions(request_headers), representation.etag, representation.last_modified
        )
        if status == 304:
            return representation.not_modified
        if status == 412:
            return PRECONDITION_FAILED
    size = representation.stat.size
    selected = _selected_range(request_headers, size, representation) if method == "GET" else None
    if isinstance(selected, Unsatisfiable):
        return plain(
            416, "Range Not Satisfiable", [(b"content-range", selected.content_range().encode())]
        )
    if method == "HEAD":
        return representation.head
    if selected is None:
        return Body(200, representation.ok_headers, 0, size)
    headers = [
        (b"content-length", str(selected.size).encode()),
        (b"content-range", selected.content_range(size).encode()),
        *representation.partial_headers,
    ]
    return Body(206, headers, selected.start, selected.stop)


def _preconditions(headers: dict[bytes, str]) -> Preconditions:
    if not _CONDITIONAL_HEADERS.intersection(headers):
        return NO_PRECONDITIONS
    return Preconditions(
        if_match=headers.get(b"if-match"),
        if_unmodified_since=headers.get(b"if-unmodified-since"),
        if_none_match=headers.get(b"if-none-match"),
        if_modified_since=headers.get(b"if-modified-since"),
    )


def _selected_range(
    headers: dict[bytes, str], size: int, representation: Representation
) -> ByteRange | Unsatisfiable | None:
    header = headers.get(b"range")
    if header is None:
        return None
    if not if_range_allows(
        headers.get(b"if-range"), representation.etag, representation.last_modified
    ):
        return None
    return parse_range(header, size)
