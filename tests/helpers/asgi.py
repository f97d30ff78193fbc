"""The app driven in-process through the ASGI interface: for what a socket
cannot show (header lists shared with middleware, the access log's records,
the operator's paths seen from a given client address)."""

from __future__ import annotations

import asyncio


def http_scope(path: str, *, method="GET", query=b"", headers=(), client=None) -> dict:
    """An ASGI HTTP scope with what the spec requires (query_string included)."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": list(headers),
    }
    if client is not None:
        scope["client"] = client
    return scope


async def receive_nothing_more() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


async def arequest(app, path: str, **scope) -> tuple[int, list, bytes]:
    """(status, header list, body) of one request to ``app``."""
    messages = []

    async def send(message):
        messages.append(message)

    await app(http_scope(path, **scope), receive_nothing_more, send)
    start = messages[0]
    return start["status"], start["headers"], b"".join(m["body"] for m in messages[1:])


def request(app, path: str, **scope) -> tuple[int, list, bytes]:
    """``arequest`` in an event loop of its own."""
    return asyncio.run(arequest(app, path, **scope))


async def alifespan(app, during) -> list[str]:
    """Start ``app``'s lifespan, await ``during()`` while it runs, shut it down; the
    lifespan messages the app sent."""
    messages: asyncio.Queue = asyncio.Queue()
    sent: list[str] = []

    async def send(message):
        sent.append(message["type"])

    messages.put_nowait({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    lifespan = asyncio.create_task(app(scope, messages.get, send))
    while not sent:
        await asyncio.sleep(0)
    await during()
    messages.put_nowait({"type": "lifespan.shutdown"})
    await lifespan
    return sent
