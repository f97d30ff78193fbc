"""What happened to each request: one access-log line and the metrics, recorded
around the app's handler without changing what it sends (but X-Request-ID)."""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import TextIO

from starlette.types import Receive, Scope, Send

from origin import metrics
from origin.config import LogConfig
from origin.meta_fetcher import META_NETWORKS, looks_like_meta
from origin.policy import PolicyTable

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SECRET_VALUES = re.compile(r"(^|&)(sig|token)=[^&]*")


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
        self.out = out or sys.stdout
        self.meta_networks = log.meta_networks if log.meta_networks is not None else META_NETWORKS

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
        outcome = [0, 0]  # status, body bytes

        async def observed_send(message) -> None:
            if message["type"] == "http.response.start":
                outcome[0] = message["status"]
                message["headers"].append(echo)  # always a list of our own making
            elif message["type"] == "http.response.body":
                outcome[1] += len(message.get("body", b""))
            await send(message)

        try:
            await handle(scope, receive, observed_send)
        finally:
            peer = scope.get("client")
            client = self.client_address(peer[0] if peer else None, forwarded_for, forwarded)
            self.record(
                scope,
                outcome[0],
                outcome[1],
                time.perf_counter() - started,
                client,
                user_agent or "",
                byte_range,
                request_id,
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
        try:
            parsed = ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self.log.trusted_proxies)

    def record(
        self, scope, status, sent, seconds, client, user_agent, byte_range, request_id
    ) -> None:
        path, method = scope["path"], scope["method"]
        folder = self.policies.for_path(path).folder if path.startswith("/") else "-"
        meta = looks_like_meta(user_agent, client, self.meta_networks)
        if self.measure:
            metrics.REQUESTS.labels(method, f"{status // 100}xx", folder).inc()
            metrics.BYTES_SENT.labels(folder).inc(sent)
            metrics.DURATION.labels(method).observe(seconds)
            if status == 304:
                metrics.NOT_MODIFIED.labels(folder).inc()
            if meta:
                metrics.META_FETCHES.inc()
        if self.log.access == "off":
            return
        query = _SECRET_VALUES.sub(
            r"\1\2=REDACTED", scope.get("query_string", b"").decode("latin-1")
        )
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "client": client,
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "bytes": sent,
            "duration_ms": round(seconds * 1000, 3),
            "range": byte_range,
            "not_modified": status == 304,
            "user_agent": user_agent,
            "folder": folder,
            "request_id": request_id,
            "meta_fetch": meta,
        }
        if self.log.access == "json":
            self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
        else:
            target = f"{path}?{query}" if query else path
            self.out.write(
                f'{client} "{method} {target}" {status} {sent} {line["duration_ms"]}ms '
                f'"{user_agent}" {folder} {request_id}{" meta" if meta else ""}\n'
            )
