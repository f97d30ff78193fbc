"""The one sender: a response decided as a value, turned into ASGI messages.

Every part of the app decides what to answer and returns it (as WhiteNoise's
``StaticFile.get_response`` and aiohttp's ``FileResponse._make_response`` do);
this module is the only place that sends, as Starlette's ``Response.__call__`` is.
The header lists of a decided response may be shared (a representation's
ready-made lists), so the sender always sends a copy: middleware may change the
list it is given in place.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from starlette.types import Receive, Send

from storage.base import FileChanged, OpenFile, StorageUnavailable

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Response:
    """A whole response: status, headers and the body (left out for HEAD)."""

    status: int
    headers: Headers
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class FileResponse:
    """A response whose body is ``file``'s bytes ``[start, stop)``, streamed."""

    status: int
    headers: Headers
    file: OpenFile
    start: int
    stop: int


class BodyAborted(RuntimeError):
    """The file changed or the store failed after the response headers were sent:
    raised so the server cuts the connection (a short body the client can see,
    never a silently different one)."""


def plain(status: int, text: str, extra: Headers = ()) -> Response:
    """A short text/plain response that no cache keeps: never an HTML page, which
    Meta would report as 'Unsupported mime type text/html'."""
    body = f"{text}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        *extra,
    ]
    return Response(status, headers, body)


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


async def send_response(
    response: Response | FileResponse, method: str, receive: Receive, send: Send
) -> None:
    """Send ``response``; a HEAD gets the headers only.

    A file's first chunk is read before any header is sent: on every backend that
    read confirms the version (S3's If-Match, the filesystem's fstat), so a file
    replaced since its stat raises FileChanged here, while it can still be served
    anew, instead of being cut after the headers.
    """
    if isinstance(response, Response):
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [*response.headers],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if method == "HEAD" else response.body}
        )
        return
    chunks = response.file.chunks(response.start, response.stop)
    try:
        first = await anext(chunks)
    except BaseException:
        await chunks.aclose()
        raise
    await send(
        {"type": "http.response.start", "status": response.status, "headers": [*response.headers]}
    )
    await _stream(first, chunks, response.stop - response.start, receive, send)


async def _stream(
    first: bytes,
    chunks: AsyncGenerator[bytes, None],
    length: int,
    receive: Receive,
    send: Send,
) -> None:
    """Send ``first``, then the rest; stop reading as soon as the client is gone.

    The disconnect watcher starts only once a second chunk is due, so a small
    range costs no extra task.
    """
    disconnected = asyncio.Event()
    watcher: asyncio.Future[None] | None = None
    sent = len(first)
    try:
        await send({"type": "http.response.body", "body": first, "more_body": sent < length})
        if sent >= length:
            return
        watcher = asyncio.ensure_future(_watch_disconnect(receive, disconnected))
        async for chunk in chunks:
            sent += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": sent < length})
            if sent >= length or disconnected.is_set():
                return
    except (FileChanged, StorageUnavailable) as error:
        raise BodyAborted(str(error)) from error
    finally:
        if watcher is not None:
            watcher.cancel()
        await chunks.aclose()


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    disconnected.set()
