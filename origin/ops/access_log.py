"""What happened to each request: one access-log line and the metrics, recorded
by ``AccessLog``, an ASGI middleware that wraps the app without changing what it
sends (but X-Request-ID)."""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from typing import Any, NamedTuple, TextIO
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.config import Config, LogConfig
from origin.ops import metrics
from origin.ops.clients import Clients
from origin.ops.log_lines import LineBatcher, json_string, now_text
from origin.policy import PolicyTable
from origin.serve.paths import MAX_PATH_BYTES, MEMOISED_PATH_CHARS, RESERVED_PATHS
from origin.whatsapp.fetcher import META_NETWORKS
from storage.bounded import remember

TABLE_LIMIT = 10_000  # distinct paths, addresses, label sets remembered
# The tables are bounded in count, and their keys in length too: a key longer than
# these is looked up afresh each time, never remembered. 10,000 paths of at most
# MEMOISED_PATH_CHARS (the paths' memo bound) are a few MB; unbounded, 10,000 paths
# of 60 KB would be 600 MB.
REMEMBERED_PATH_CHARS = MEMOISED_PATH_CHARS
# The methods counted under their own name; any other is counted as "other", so a
# client inventing methods cannot add series to the metrics without end (the
# prometheus client keeps every label set it is given for the life of the process).
COUNTED_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"})
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
SECRET_NAMES = frozenset({"sig", "token"})  # query parameters never written to the log


class AccessLog:
    """Wraps the app: every request but the operator's paths (/healthz, /readyz,
    /metrics) is observed, and the log is flushed at shutdown. The app's config
    is read at each request by identity, so a reload (which replaces it) brings
    the new log settings without the app knowing about the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.config: Config = app.config
        self.observer = Observer.for_config(self.config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.app.config is not self.config:
                self.reloaded()
            if self.observer.active and scope["path"] not in RESERVED_PATHS:
                await self.observer.observe(self.app, scope, receive, send)
                return
        elif scope["type"] == "lifespan":
            await self.app(scope, self.flushing_at_shutdown(receive), send)
            return
        await self.app(scope, receive, send)

    def reloaded(self) -> None:
        self.observer.out.flush()
        self.config = self.app.config
        self.observer = Observer.for_config(self.config)

    def flushing_at_shutdown(self, receive: Receive) -> Receive:
        """The log is flushed as the server announces shutdown, before the app
        closes its storage (which may fail or hang): no line waits on it."""

        async def receive_and_flush() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.observer.out.flush()
            return message

        return receive_and_flush


@dataclass(slots=True)
class Outcome:
    """What the app sent, as the observing ``send`` saw it go by."""

    status: int = 0
    sent: int = 0  # body bytes


class Request(NamedTuple):
    """One request as the access log and the metrics record it (a NamedTuple:
    one is made per request, and a frozen dataclass costs several times more)."""

    method: str
    path: str
    query_string: bytes
    status: int
    sent: int
    seconds: float
    client: str | None
    user_agent: str
    byte_range: str | None
    request_id: str


class Series(NamedTuple):
    """The metric children one (method, status, folder) counts into."""

    requests: Any
    sent_bytes: Any
    duration: Any
    not_modified: Any  # only for 304s


class Observer:
    def __init__(
        self,
        log: LogConfig,
        policies: PolicyTable,
        measure: bool,
        out: TextIO | None = None,
    ) -> None:
        self.log = log
        self.policies = policies
        self.measure = measure
        self.active = measure or log.access != "off"  # read on every request
        self.out = out or LineBatcher(sys.stdout)
        networks = log.meta_networks if log.meta_networks is not None else META_NETWORKS
        self.clients = Clients(log.trusted_proxies, networks)
        # Per-request work made lookups: these answers repeat for every request.
        self._folders: dict[str, str] = {}
        self._series: dict[tuple[str, int, str], Series] = {}

    @classmethod
    def for_config(cls, config: Config) -> Observer:
        return cls(config.log, config.policies, measure=config.metrics.enabled)

    async def observe(self, handle, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = user_agent = byte_range = forwarded_for = forwarded = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
            elif name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"range":
                byte_range = value.decode("latin-1")
            elif name == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1")
            elif name == b"forwarded":
                forwarded = value.decode("latin-1")
        if request_id is None or not _REQUEST_ID.fullmatch(request_id):
            request_id = f"{time.time_ns():x}-{id(scope) & 0xFFFFFF:06x}"
        echo = (b"x-request-id", request_id.encode())
        outcome = Outcome()

        async def observed_send(message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
                message["headers"].append(echo)  # always a list of our own making
            elif message["type"] == "http.response.body":
                outcome.sent += len(message.get("body", b""))
            await send(message)

        try:
            await handle(scope, receive, observed_send)
        finally:
            peer = scope.get("client")
            client = self.clients.address(peer[0] if peer else None, forwarded_for, forwarded)
            # Positional: a NamedTuple made with keywords costs three times as much.
            request = Request(
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                outcome.status,
                outcome.sent,
                time.perf_counter() - started,
                client,
                user_agent or "",
                byte_range,
                request_id,
            )
            self.record(request)

    def _folder(self, path: str) -> str:
        folder = self._folders.get(path)
        if folder is None:
            if not path.startswith("/"):
                folder = "-"
            else:
                # A path past MAX_PATH_BYTES names no stored file; its first
                # MAX_PATH_BYTES characters hold every folder a policy can name, and
                # looking up those alone keeps a 60 KB path from costing a scan per segment.
                folder = self.policies.for_path(path[:MAX_PATH_BYTES]).folder
            if len(path) <= REMEMBERED_PATH_CHARS:
                remember(self._folders, path, folder, TABLE_LIMIT)
        return folder

    def _metrics(self, method: str, status: int, folder: str) -> Series:
        """The labelled children of one (method, status, folder), looked up once."""
        if method not in COUNTED_METHODS:
            method = "other"
        key = (method, status, folder)
        series = self._series.get(key)
        if series is None:
            series = Series(
                requests=metrics.REQUESTS.labels(method, f"{status // 100}xx", folder),
                sent_bytes=metrics.BYTES_SENT.labels(folder),
                duration=metrics.DURATION.labels(method),
                not_modified=metrics.NOT_MODIFIED.labels(folder) if status == 304 else None,
            )
            remember(self._series, key, series, TABLE_LIMIT)
        return series

    def record(self, request: Request) -> None:
        path, method, status, sent = request.path, request.method, request.status, request.sent
        client, user_agent, seconds = request.client, request.user_agent, request.seconds
        folder = self._folder(path)
        meta = self.clients.looks_like_meta(user_agent, client)
        if self.measure:
            series = self._metrics(method, status, folder)
            series.requests.inc()
            series.sent_bytes.inc(sent)
            series.duration.observe(seconds)
            if series.not_modified is not None:
                series.not_modified.inc()
            if meta:
                metrics.META_FETCHES.inc()
        if self.log.access == "off":
            return
        raw_query = request.query_string
        query = redacted(raw_query.decode("latin-1")) if raw_query else ""
        milliseconds = round(seconds * 1000, 3)
        if self.log.access == "json":
            # Built by hand: json.dumps of a dict per request costs more than the request.
            self.out.write(
                f'{{"time": "{now_text()}", "client": {json_string(client)}, "method": "{method}", '
                f'"path": {json_string(path)}, "query": {json_string(query)}, "status": {status}, '
                f'"bytes": {sent}, "duration_ms": {milliseconds}, '
                f'"range": {json_string(request.byte_range)}, '
                f'"not_modified": {"true" if status == 304 else "false"}, '
                f'"user_agent": {json_string(user_agent)}, "folder": {json_string(folder)}, '
                f'"request_id": {json_string(request.request_id)}, '
                f'"meta_fetch": {"true" if meta else "false"}}}\n'
            )
        else:
            target = f"{path}?{query}" if query else path
            self.out.write(
                f'{client} "{method} {target}" {status} {sent} {milliseconds}ms '
                f'"{user_agent}" {folder} {request.request_id}{" meta" if meta else ""}\n'
            )


def redacted(query: str) -> str:
    """The query with the value of every secret parameter replaced by REDACTED.

    A parameter is known by its decoded name, as ``parse_qs`` (and so the signature
    check) reads it: ``si%67=`` is a ``sig`` too, and must not be logged in clear.
    """
    lowered = query.lower()
    if "%" not in query and "+" not in query and not any(n in lowered for n in SECRET_NAMES):
        return query  # the usual query: nothing to look at
    pieces = query.split("&")
    for index, piece in enumerate(pieces):
        name = piece.split("=", 1)[0]
        if unquote_plus(name) in SECRET_NAMES:
            pieces[index] = f"{name}=REDACTED"
    return "&".join(pieces)
