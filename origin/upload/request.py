"""What the API reads from a request: its body as chunks, its declared length,
a header, a ``?flag``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs

from starlette.types import Receive, Scope

from origin.upload.refusal import bad_content_length

# No file is larger than 10**19 bytes: a longer Content-Length is no number to trust.
MAX_LENGTH_DIGITS = 19


class ClientGone(Exception):
    """The client disconnected before the body was complete."""


async def body(receive: Receive) -> AsyncIterator[bytes]:
    """The body's chunks as they come; ``ClientGone`` if the connection ends first."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


def declared_length(value: bytes | None, url_path: str) -> int | None:
    """Content-Length as a number, refusing what no file could be before ``int()``."""
    if value is None:
        return None
    if not value.isdigit() or len(value) > MAX_LENGTH_DIGITS:
        raise bad_content_length(value, url_path)
    return int(value)


def header(scope: Scope, name: bytes) -> bytes | None:
    return dict(scope["headers"]).get(name)


def query(scope: Scope) -> dict[str, list[str]]:
    """The query string's parameters; ``?list`` counts, with an empty value."""
    return parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def flag(scope: Scope, name: str) -> bool:
    """``?force=true`` (or ``1``, ``yes``): a flag is set by saying so."""
    return any(value.lower() in ("true", "1", "yes") for value in query(scope).get(name, []))
