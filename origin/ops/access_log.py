"""What happened to each request: one access-log line and the metrics, recorded
by ``AccessLog``, an ASGI middleware that wraps the app without changing what it
sends (but X-Request-ID)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.config import Config, LogConfig
from origin.ops import metrics
from origin.policy import PolicyTable
from origin.serve.paths import MAX_PATH_BYTES, MEMOISED_PATH_CHARS, RESERVED_PATHS
from origin.whatsapp.fetcher import META_NETWORKS, looks_like_meta
from storage.bounded import remember

TABLE_LIMIT = 10_000  # distinct paths, addresses, label sets remembered
# The tables are bounded in count, and their keys in length too: a key longer than
# these is looked up afresh each time, never remembered. 10,000 paths of at most
# MEMOISED_PATH_CHARS (the paths' memo bound) are a few MB; unbounded, 10,000 paths
# of 60 KB would be 600 MB.
REMEMBERED_PATH_CHARS = MEMOISED_PATH_CHARS
# The longest textual IP address, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", is
# 45 characters; this leaves room for an IPv6 zone. A longer X-Forwarded-For hop is
# no address: never trusted, never a Meta network, never remembered.
MAX_ADDRESS_CHARS = 64
# The methods counted under their own name; any other is counted as "other", so a
# client inventing methods cannot add series to the metrics without end (the
# prometheus client keeps every label set it is given for the life of the process).
COUNTED_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"})
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SECRET_VALUES = re.compile(r"(^|&)(sig|token)=[^&]*")


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
            await self.app(scope, receive, self.flushing_at_shutdown(send))
            return
        await self.app(scope, receive, send)

    def reloaded(self) -> None:
        self.observer.out.flush()
        self.config = self.app.config
        self.observer = Observer.for_config(self.config)

    def flushing_at_shutdown(self, send: Send) -> Send:
        async def send_after_flush(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self.observer.out.flush()
            await send(message)

        return send_after_flush


@dataclass(slots=True)
class Outcome:
    """What the app sent, as the observing ``send`` saw it go by."""

    status: int = 0
    sent: int = 0  # body bytes


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the access log and the metrics record it."""

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
        self.out = out or LineBatcher(sys.stdout)
        self.meta_networks = log.meta_networks if log.meta_networks is not None else META_NETWORKS
        # Per-request work made lookups: these answers repeat for every request.
        self._meta_addresses: dict[str | None, bool] = {}
        self._trusted_addresses: dict[str, bool] = {}
        self._folders: dict[str, str] = {}
        self._series: dict[tuple[str, int, str], tuple] = {}

    @classmethod
    def for_config(cls, config: Config) -> Observer:
        return cls(config.log, config.policies, measure=config.metrics.enabled)

    @property
    def active(self) -> bool:
        return self.measure or self.log.access != "off"

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
            client = self.client_address(peer[0] if peer else None, forwarded_for, forwarded)
            self.record(
                Request(
                    method=scope["method"],
                    path=scope["path"],
                    query_string=scope.get("query_string", b""),
                    status=outcome.status,
                    sent=outcome.sent,
                    seconds=time.perf_counter() - started,
                    client=client,
                    user_agent=user_agent or "",
                    byte_range=byte_range,
                    request_id=request_id,
                )
            )

    def client_address(
        self, peer: str | None, forwarded_for: str | None, forwarded: str | None
    ) -> str | None:
        """The direct peer, unless it is a trusted proxy: then the nearest address
        in X-Forwarded-For (or Forwarded: for=) that is not a trusted proxy."""
        if peer is None or not self._trusted(peer):
            return peer
        hops = []
        if forwarded_for:
            hops = [hop.strip() for hop in forwarded_for.split(",")]
        elif forwarded:
            hops = re.findall(r'for="?\[?([^\]";,]+)', forwarded, re.IGNORECASE)
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _trusted(self, address: str) -> bool:
        if len(address) > MAX_ADDRESS_CHARS:
            return False
        known = self._trusted_addresses.get(address)
        if known is None:
            try:
                parsed = ip_address(address)
                known = any(parsed in network for network in self.log.trusted_proxies)
            except ValueError:
                known = False
            remember(self._trusted_addresses, address, known, TABLE_LIMIT)
        return known

    def _looks_like_meta(self, user_agent: str, client: str | None) -> bool:
        if looks_like_meta(user_agent, None, ()):
            return True
        if client is not None and len(client) > MAX_ADDRESS_CHARS:
            return False
        known = self._meta_addresses.get(client)
        if known is None:
            known = looks_like_meta("", client, self.meta_networks)
            remember(self._meta_addresses, client, known, TABLE_LIMIT)
        return known

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

    def _metrics(self, method: str, status: int, folder: str) -> tuple:
        """The labelled children of one (method, status, folder), looked up once."""
        if method not in COUNTED_METHODS:
            method = "other"
        key = (method, status, folder)
        series = self._series.get(key)
        if series is None:
            series = (
                metrics.REQUESTS.labels(method, f"{status // 100}xx", folder),
                metrics.BYTES_SENT.labels(folder),
                metrics.DURATION.labels(method),
                metrics.NOT_MODIFIED.labels(folder) if status == 304 else None,
            )
            remember(self._series, key, series, TABLE_LIMIT)
        return series

    def record(self, request: Request) -> None:
        path, method, status, sent = request.path, request.method, request.status, request.sent
        client, user_agent, seconds = request.client, request.user_agent, request.seconds
        folder = self._folder(path)
        meta = self._looks_like_meta(user_agent, client)
        if self.measure:
            requests, sent_bytes, duration, not_modified = self._metrics(method, status, folder)
            requests.inc()
            sent_bytes.inc(sent)
            duration.observe(seconds)
            if not_modified is not None:
                not_modified.inc()
            if meta:
                metrics.META_FETCHES.inc()
        if self.log.access == "off":
            return
        raw_query = request.query_string
        query = (
            _SECRET_VALUES.sub(r"\1\2=REDACTED", raw_query.decode("latin-1")) if raw_query else ""
        )
        milliseconds = round(seconds * 1000, 3)
        if self.log.access == "json":
            # Built by hand: json.dumps of a dict per request costs more than the request.
            self.out.write(
                f'{{"time": "{_now()}", "client": {_json(client)}, "method": "{method}", '
                f'"path": {_json(path)}, "query": {_json(query)}, "status": {status}, '
                f'"bytes": {sent}, "duration_ms": {milliseconds}, '
                f'"range": {_json(request.byte_range)}, '
                f'"not_modified": {"true" if status == 304 else "false"}, '
                f'"user_agent": {_json(user_agent)}, "folder": {_json(folder)}, '
                f'"request_id": {_json(request.request_id)}, '
                f'"meta_fetch": {"true" if meta else "false"}}}\n'
            )
        else:
            target = f"{path}?{query}" if query else path
            self.out.write(
                f'{client} "{method} {target}" {status} {sent} {milliseconds}ms '
                f'"{user_agent}" {folder} {request.request_id}{" meta" if meta else ""}\n'
            )


_SAFE = re.compile(r'[^"\\\x00-\x1f\x7f-\uffff]*')


class _Clock:
    """The current second, formatted once a second (strftime costs more than a request)."""

    second = 0
    text = ""


def _json(value: str | None) -> str:
    """A JSON string: plain ASCII without quotes or backslashes is quoted as it is."""
    if value is None:
        return "null"
    if _SAFE.fullmatch(value):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def _now() -> str:
    """ISO 8601 UTC with milliseconds; the seconds part is formatted once a second."""
    now = time.time()
    second = int(now)
    if _Clock.second != second:
        _Clock.text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _Clock.second = second
    return f"{_Clock.text}.{int((now - second) * 1000):03d}+00:00"


# 1 MiB: 256 ordinary lines are about 100 KB, so this flushes only for a run of
# oversized ones.
PENDING_CHARS = 1 << 20


class LineBatcher:
    """Log lines written in batches: one write per 256 lines, or half a second
    after the first waiting line, whichever comes first. A write per request
    costs more than the request when stdout is a pipe to a supervisor. Also at
    PENDING_CHARS waiting: lines carry request-controlled values (paths, user
    agents: megabytes under some servers), and 256 of those must not wait in memory."""

    def __init__(self, stream: TextIO, lines: int = 256, delay: float = 0.5) -> None:
        self.stream, self.lines, self.delay = stream, lines, delay
        self.pending: list[str] = []
        self.pending_chars = 0
        self.timer: asyncio.TimerHandle | None = None

    def write(self, line: str) -> None:
        self.pending.append(line)
        self.pending_chars += len(line)
        if len(self.pending) >= self.lines or self.pending_chars >= PENDING_CHARS:
            self.flush()
        elif self.timer is None:
            try:
                self.timer = asyncio.get_running_loop().call_later(self.delay, self.flush)
            except RuntimeError:  # no loop: write at once
                self.flush()

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.pending:
            self.stream.write("".join(self.pending))
            self.stream.flush()
            self.pending.clear()
        self.pending_chars = 0
