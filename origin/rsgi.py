"""The app under granian's own interface, RSGI: what ``media-origin serve`` runs
under granian (uvicorn, and ``uvicorn --factory origin.app:create_app``, run the
ASGI app).

RSGI hands a request over as an object with lazy headers and takes a whole
response in one synchronous call, where ASGI builds a scope dict and awaits a
message per part: measured here, a do-nothing 304 does about 28% more under RSGI
(README "Performance"). So the requests that matter for speed, a GET or HEAD of a
stored file, are answered natively: the same read side (``Files.serve``) with the
RSGI sender, and the same access-log record. Everything else (the API, listings,
404s, the operator's paths) goes through a small bridge to the ASGI app, so there
is one implementation of each, tested under both interfaces.
"""

from __future__ import annotations

import asyncio
import os
import time

from origin.app import MediaOrigin, build_app
from origin.config import Config, resolve_config
from origin.ops.access_log import AccessLog, Request, request_id_for
from origin.serve.files import ReadRequest
from origin.serve.paths import RESERVED_PATHS, storage_path
from origin.serve.sender import RsgiResponder

# The request headers the read side looks at (decision.interesting_headers),
# by their RSGI (text) names.
_READ_HEADERS = (
    (b"if-match", "if-match"),
    (b"if-none-match", "if-none-match"),
    (b"if-modified-since", "if-modified-since"),
    (b"if-unmodified-since", "if-unmodified-since"),
    (b"if-range", "if-range"),
    (b"range", "range"),
)


class RsgiApp:
    """The ASGI app (the access log around the router) and its RSGI face."""

    def __init__(self, config: Config) -> None:
        self.asgi: AccessLog = build_app(config)
        self.origin: MediaOrigin = self.asgi.app

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.origin.started(loop)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.asgi.observer.out.flush()  # first: closing the storage may fail or hang
        self.origin.stopped()

    async def __rsgi__(self, scope, protocol) -> None:
        method = scope.method
        if (method == "GET" or method == "HEAD") and scope.path not in RESERVED_PATHS:
            path = storage_path(scope.path)
            if path is not None and await self.read(scope, protocol, path):
                return
        await bridge(self.asgi, scope, protocol)

    async def read(self, scope, protocol, path: str) -> bool:
        """A stored file, answered natively; False, having sent nothing, when there
        is none (the ASGI app then answers: a 404 or a listing hint)."""
        observer = self.asgi.current()
        headers = scope.headers
        found = {}
        for name, text_name in _READ_HEADERS:
            value = headers.get(text_name)
            if value is not None:
                found[name] = ", ".join(headers.get_all(text_name))
        query_string = scope.query_string.encode("latin-1", "replace")
        request = ReadRequest(scope.method, scope.path, query_string, found)
        files = self.origin.files
        if not observer.active:
            return await files.serve(request, RsgiResponder(protocol, scope.method), path)
        started = time.perf_counter_ns()
        request_id = request_id_for(headers.get("x-request-id"))
        respond = RsgiResponder(protocol, scope.method, ("x-request-id", request_id))
        served = False
        try:
            served = await files.serve(request, respond, path)
        except BaseException:
            served = True  # logged as whatever was sent (a 0 when nothing was)
            raise
        finally:
            if served:
                client = scope.client.rpartition(":")[0].strip("[]") or None
                if observer.behind_proxies:
                    client = observer.clients.address(
                        client, headers.get("x-forwarded-for"), headers.get("forwarded")
                    )
                record = Request(
                    scope.method,
                    scope.path,
                    query_string,
                    respond.status,
                    client,
                    headers.get("user-agent") or "",
                    found.get(b"range"),
                )
                observer.record(record, respond.sent, time.perf_counter_ns() - started, request_id)
        return served


async def bridge(app, scope, protocol) -> None:
    """One request through the ASGI app: its scope made from RSGI's, its body read
    from the protocol as it comes, its messages turned into RSGI's calls."""
    client_host, _, client_port = scope.client.rpartition(":")
    query_string = scope.query_string.encode("latin-1", "replace")
    asgi_scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": scope.path,
        "raw_path": scope.path.encode("utf-8", "surrogateescape"),
        "query_string": query_string,
        "root_path": "",
        "headers": [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in scope.headers.items()
        ],
        "client": (client_host.strip("[]"), int(client_port or 0)),
        "server": None,
    }
    body = protocol.__aiter__()
    state = _Bridged()

    async def receive() -> dict:
        if not state.body_done:
            try:
                chunk = await body.__anext__()
            except StopAsyncIteration:
                state.body_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": bytes(chunk), "more_body": True}
        await protocol.client_disconnect()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            state.status = message["status"]
            state.headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", [])
            ]
            return
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        if state.transport is None:
            if not more:
                if chunk:
                    protocol.response_bytes(state.status, state.headers, chunk)
                else:
                    protocol.response_empty(state.status, state.headers)
                return
            state.transport = protocol.response_stream(state.status, state.headers)
        if chunk:
            await state.transport.send_bytes(chunk)

    await app(asgi_scope, receive, send)


class _Bridged:
    """What the bridge knows of one request's response so far."""

    __slots__ = ("body_done", "headers", "status", "transport")

    def __init__(self) -> None:
        self.body_done = False
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.transport = None


def create_app(config_path: str | os.PathLike[str] | None = None) -> RsgiApp:
    """App factory for granian's RSGI, e.g.
    ``granian --interface rsgi --factory origin.rsgi:create_app``; the config is
    found as ``origin.app.create_app`` finds it."""
    return RsgiApp(resolve_config(config_path))
