"""The one sender: a response decided as a value, turned into ASGI messages.

Every part of the app decides what to answer and returns it (as WhiteNoise's
``StaticFile.get_response`` and aiohttp's ``FileResponse._make_response`` do);
this module is the only place that sends, as Starlette's ``Response.__call__`` is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from starlette.types import Receive, Send

from origin.serve.responses import FileResponse, Response
from storage.base import FileChanged, StorageUnavailable
from storage.bounded import remember


class BodyAborted(RuntimeError):
    """The file changed or the store failed after the response headers were sent:
    raised so the server cuts the connection (a short body the client can see,
    never a silently different one)."""


async def send_response(
    send: Send,
    response: Response | FileResponse,
    method: str = "GET",
    receive: Receive | None = None,
) -> None:
    """Send ``response``; a HEAD gets the headers only.

    A file's first chunk is read before any header is sent: on every backend that
    read confirms the version (S3's If-Match, the filesystem's fstat), so a file
    replaced since its stat raises FileChanged here, while it can still be served
    anew, instead of being cut after the headers.
    """
    if type(response) is Response:
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


def responder(send: Send, method: str, receive: Receive):
    """``send_response`` bound to one ASGI request: the ``respond`` the read side
    calls (``Files.serve``), whichever interface the request came by."""

    async def respond(response: Response | FileResponse) -> None:
        await send_response(send, response, method, receive)

    return respond


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


class RsgiResponder:
    """The one sender for a request that came by RSGI (granian's own interface):
    a whole response is handed over in one synchronous call (no ASGI messages, no
    awaits), a file's bytes are streamed as ``send_response`` streams them, and
    what was sent (status, body bytes) is kept for the access log.

    RSGI takes headers as text: each header list is converted once and the
    conversion remembered while the list lives (the representations' lists are
    made once per file version and shared by every response of it).
    """

    __slots__ = ("extra", "method", "protocol", "sent", "status")

    def __init__(self, protocol, method: str, extra: tuple[str, str] | None = None) -> None:
        self.protocol = protocol
        self.method = method
        self.extra = extra  # a header of the access log's (X-Request-ID)
        self.status = 0
        self.sent = 0

    async def __call__(self, response: Response | FileResponse) -> None:
        headers = text_headers(response.headers)
        if self.extra is not None:
            headers = [*headers, self.extra]
        self.status = response.status
        if type(response) is Response:
            body = response.body
            if self.method == "HEAD" or not body:
                # Empty: the headers' own Content-Length stands (a HEAD's, a 304's).
                self.protocol.response_empty(response.status, headers)
            else:
                self.protocol.response_bytes(response.status, headers, body)
                self.sent = len(body)
            return
        chunks = response.file.chunks(response.start, response.stop)
        try:
            first = await anext(chunks)  # before the headers: see send_response
        except BaseException:
            await chunks.aclose()
            raise
        transport = self.protocol.response_stream(response.status, headers)
        try:
            await transport.send_bytes(first)
            self.sent = len(first)
            async for chunk in chunks:
                await transport.send_bytes(chunk)
                self.sent += len(chunk)
        except (FileChanged, StorageUnavailable) as error:
            raise BodyAborted(str(error)) from error
        except RuntimeError:
            return  # the client is gone (RSGIProtocolClosed): stop reading
        finally:
            await chunks.aclose()


_TEXT_HEADERS: dict[int, tuple[list, list[tuple[str, str]]]] = {}
# Lists remembered, the oldest forgotten first: the shared lists of the files in
# use stay; the one-off lists of ranges and API answers pass through (4,096 of
# them pinned are a few MB at most).
TEXT_HEADERS_LIMIT = 4096


def text_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """``headers`` as RSGI's text pairs, converted once per list. The entry keeps
    the list itself, so its id cannot be reused by another list meanwhile."""
    found = _TEXT_HEADERS.get(id(headers))
    if found is not None and found[0] is headers:
        return found[1]
    text = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
    remember(_TEXT_HEADERS, id(headers), (headers, text), TEXT_HEADERS_LIMIT)
    return text
