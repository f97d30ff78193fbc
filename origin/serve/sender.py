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
