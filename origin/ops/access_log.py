"""What happened to each request: one access-log line and the metrics, recorded
by ``AccessLog``, an ASGI middleware that wraps the app without changing what it
sends (but X-Request-ID)."""

from __future__ import annotations

import itertools
import os
import re
import sys
import time
from typing import NamedTuple, TextIO
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.config import Config, LogConfig
from origin.ops.clients import Clients
from origin.ops.log_lines import Clock, LineBatcher, line_pieces, milliseconds
from origin.ops.meta_fetches import META_FETCHES
from origin.ops.request_counts import COUNTS, Tally
from origin.policy import PolicyTable
from origin.serve.paths import RESERVED_PATHS
from origin.whatsapp.fetcher import META_NETWORKS
from storage.bounded import remember

# A line's pieces are remembered for at most ENTRY_LIMIT kinds of request, each
# only when every request-controlled part of it (path, query, client, user agent,
# range) adds up to ENTRY_CHARS or less: a real browser's user agent fits, and the
# table stays under a few MB however the parts are chosen.
ENTRY_LIMIT = 2048
ENTRY_CHARS = 1024
PIECES_CHARS = 200  # the field names and punctuation around them
# The methods counted under their own name; any other is counted as "other", so a
# client inventing methods cannot add series to the metrics without end (every
# label set counted is kept for the life of the process).
COUNTED_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"})
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Query parameters never written to the log: a signature, a token, and the
# verify token Meta sends with its webhook challenge.
SECRET_NAMES = frozenset({"sig", "token", "hub.verify_token"})


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
            observer = self.current()
            if observer.active and scope["path"] not in RESERVED_PATHS:
                await observer.observe(self.app, scope, receive, send)
                return
        elif scope["type"] == "lifespan":
            await self.app(scope, self.flushing_at_shutdown(receive), send)
            return
        await self.app(scope, receive, send)

    def current(self) -> Observer:
        """The observer for the app's config of the moment (a reload replaces it)."""
        if self.app.config is not self.config:
            self.reloaded()
        return self.observer

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
                self.observer.counts.stopping()
            return message

        return receive_and_flush


class Request(NamedTuple):
    """What one request's line and counts are made from, apart from what changes
    every time (bytes sent, duration, time, request id). As a plain tuple it is
    the key of the request's ``Entry``."""

    method: str
    path: str
    query_string: bytes
    status: int
    client: str | None
    user_agent: bytes  # as the client sent it
    byte_range: bytes | None


class Entry(NamedTuple):
    """A request's line, made once per kind of request: the pieces around the bytes
    sent, the duration and the request id (the only parts that change), and the
    tally its metrics count into. A line is ``head + bytes + between + duration +
    tail + request id + close``."""

    head: str
    between: str
    tail: str
    close: str
    tally: Tally | None
    meta: bool


class Observer:
    """Records each request: its access-log line and its counts. The work per
    request is a header lookup, one table lookup of the request's ``Entry`` and
    the line's assembly from its pieces (README "Performance" has the cost)."""

    def __init__(
        self,
        log: LogConfig,
        policies: PolicyTable,
        measure: bool,
        out: TextIO | None = None,
    ) -> None:
        self.policies = policies
        self.measure = measure
        self.writing = log.access != "off"
        self.json = log.access == "json"
        self.active = measure or self.writing  # read on every request
        self.out = out or LineBatcher(sys.stdout)
        networks = log.meta_networks if log.meta_networks is not None else META_NETWORKS
        self.clients = Clients(log.trusted_proxies, networks)
        self.behind_proxies = bool(log.trusted_proxies)
        self._entries: dict[tuple, Entry] = {}
        self.counts = COUNTS

    @classmethod
    def for_config(cls, config: Config) -> Observer:
        return cls(config.log, config.policies, measure=config.metrics.enabled)

    async def observe(self, handle, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter_ns()
        headers = dict(scope["headers"])  # one pass in C; a repeated header: its last value
        request_id = headers.get(b"x-request-id")
        request_id = request_id_for(None if request_id is None else request_id.decode("latin-1"))
        echo = (b"x-request-id", request_id.encode())
        status = sent = 0

        async def observed_send(message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"].append(echo)  # always a list of our own making
            else:
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await handle(scope, receive, observed_send)
        finally:
            peer = scope.get("client")
            client = peer[0] if peer else None
            if self.behind_proxies:
                forwarded_for = headers.get(b"x-forwarded-for")
                forwarded = headers.get(b"forwarded")
                client = self.clients.address(
                    client,
                    forwarded_for and forwarded_for.decode("latin-1"),
                    forwarded and forwarded.decode("latin-1"),
                )
            # The key of the request's Entry: a plain tuple (made in C; a NamedTuple's
            # __new__ is a Python call), the header values still bytes (decoded only
            # for a new Entry).
            key = (
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                status,
                client,
                headers.get(b"user-agent", b""),
                headers.get(b"range"),
            )
            self.record(key, sent, time.perf_counter_ns() - started, request_id)

    def record(self, key: tuple, sent: int, nanoseconds: int, request_id: str) -> None:
        """Count the request and write its line; ``key`` is a ``Request`` as a tuple."""
        entry = self._entries.get(key)
        if entry is None:
            entry = self.entry(Request._make(key))
        tally = entry.tally
        if tally is not None:
            tally.requests += 1
            tally.sent += sent
            tally.durations.observe(nanoseconds)
            if entry.meta:
                self.counts.meta_fetches += 1
            if self.counts.unpublished:
                self.counts.moved()
        if entry.meta:
            META_FETCHES.saw(key[1], key[3])
        if self.writing:
            opening = ""
            if self.json:
                now = time.time_ns() // 1_000_000
                opening = Clock.opening if now == Clock.millisecond else Clock.refresh(now)
            self.out.write(
                f"{opening}{entry.head}{sent}{entry.between}{milliseconds(nanoseconds)}"
                f"{entry.tail}{request_id}{entry.close}"
            )

    def entry(self, request: Request) -> Entry:
        """The pieces of this kind of request's line, its folder and its tally;
        remembered unless a part of it is too long to be worth keeping."""
        method, path, raw_query, status, client, raw_agent, raw_range = request
        user_agent = raw_agent.decode("latin-1")
        byte_range = None if raw_range is None else raw_range.decode("latin-1")
        # for_path looks at no more of a path than its longest policy folder, so a
        # 60 KB path costs what a short one does: nothing to remember per path.
        folder = self.policies.for_path(path).folder if path.startswith("/") else "-"
        meta = self.clients.looks_like_meta(user_agent, client)
        tally = None
        if self.measure:
            counted = method if method in COUNTED_METHODS else "other"
            tally = self.counts.tally(counted, status, folder)
        query = redacted(raw_query.decode("latin-1")) if raw_query else ""
        pieces = line_pieces(
            self.json, method, path, query, status, client, user_agent, byte_range, folder, meta
        )
        entry = Entry(*pieces, tally, meta)
        # Measured on the pieces, as escaped: a control character is six in JSON.
        if sum(map(len, pieces)) <= ENTRY_CHARS + PIECES_CHARS:
            remember(self._entries, request, entry, ENTRY_LIMIT)  # found by the plain tuple too
        return entry


def request_id_for(given: str | None) -> str:
    """The client's X-Request-ID when it is a sane one, else one of our own."""
    if given is None or not _REQUEST_ID.fullmatch(given):
        return next_request_id()
    return given


def next_request_id() -> str:
    """A request id unique across workers and restarts, made by counting: a
    per-process prefix (the start time and pid) and the request's number."""
    return _ID_PREFIX + str(next(_ID_NUMBERS))


_ID_PREFIX = f"{time.time_ns() // 1_000_000:x}{os.getpid():x}-"
_ID_NUMBERS = itertools.count(1)


def _reset_request_ids() -> None:
    """A forked worker counts under a prefix of its own."""
    global _ID_PREFIX
    _ID_PREFIX = f"{time.time_ns() // 1_000_000:x}{os.getpid():x}-"


os.register_at_fork(after_in_child=_reset_request_ids)


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
