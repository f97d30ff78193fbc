"""Responses decided as values: what every part of the app returns, and the one
sender (``origin.serve.sender``) sends. Plain records and the canned answers;
no I/O, so deciding stays a pure function.

``Response`` and ``FileResponse`` are NamedTuples, not dataclasses: one is made
per request on the hot path, and a tuple is the cheapest immutable record Python
builds. Their header lists may be shared (a representation's ready-made lists):
the sender sends a copy.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from storage.base import OpenFile, StorageUnavailable

Headers = list[tuple[bytes, bytes]]


class Response(NamedTuple):
    """A whole response: status, headers and the body (left out for HEAD)."""

    status: int
    headers: Headers
    body: bytes = b""


class FileResponse(NamedTuple):
    """A response whose body is ``file``'s bytes ``[start, stop)``, streamed."""

    status: int
    headers: Headers
    file: OpenFile
    start: int
    stop: int


def plain(status: int, text: str, extra: Headers = ()) -> Response:
    """A short text/plain response that no cache keeps: never an HTML page, which
    Meta would report as 'Unsupported mime type text/html'."""
    return text_response(status, f"{text}\n".encode(), extra)


def text_response(status: int, body: bytes, extra: Headers = ()) -> Response:
    """``body`` exactly as given (a webhook's challenge is compared byte for byte)."""
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        *extra,
    ]
    return Response(status, headers, body)


def json_response(status: int, body: object, close: bool = False) -> Response:
    """The API's answers: JSON with a trailing newline (curl prints it cleanly),
    never cached; ``close`` asks the client to drop the connection (a refused
    upload whose body was not read)."""
    payload = json.dumps(body, ensure_ascii=False).encode() + b"\n"
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if close:
        headers.append((b"connection", b"close"))
    return Response(status, headers, payload)


NO_CONTENT = Response(204, [(b"cache-control", b"no-store")])

NOT_FOUND = plain(404, "Not Found")
UNAUTHORIZED = plain(401, "Unauthorized", [(b"www-authenticate", b'Bearer realm="media-origin"')])
PRECONDITION_FAILED = plain(412, "Precondition Failed")
BUSY = plain(503, "Service Unavailable", [(b"retry-after", b"1")])
UNAVAILABLE = plain(503, "Service Unavailable: storage unreachable", [(b"retry-after", b"5")])
GATEWAY_TIMEOUT = plain(504, "Gateway Timeout: storage too slow", [(b"retry-after", b"5")])
INTERNAL_ERROR = plain(500, "Internal Server Error: the server log has the details")
READ_METHODS = b"GET, HEAD"


def storage_failed(error: StorageUnavailable) -> Response:
    """Never a 404 a CDN would keep, never a hang: a 503 (or 504) to retry."""
    return GATEWAY_TIMEOUT if error.timeout else UNAVAILABLE
