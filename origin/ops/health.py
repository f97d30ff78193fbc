"""/healthz, /readyz and /metrics: the operator's paths, never cached, never a
stored file (origin.serve.paths reserves them)."""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

from origin.config import MetricsConfig
from origin.http.credentials import bearer_matches
from origin.ops.metrics import exposition
from origin.serve.responses import NOT_FOUND, READ_METHODS, UNAUTHORIZED, Response, plain
from storage.base import Storage, StorageUnavailable

HEALTHY = plain(200, "ok")
READ_ONLY_ALLOWED = plain(405, "Method Not Allowed", [(b"allow", READ_METHODS)])
METRICS_LOOPBACK_ONLY = plain(403, "Forbidden: /metrics answers loopback only")


class Health:
    def __init__(self, storage: Storage, takes_uploads: bool, metrics: MetricsConfig) -> None:
        self.storage = storage
        self.takes_uploads = takes_uploads
        self.metrics = metrics

    async def response(self, scope: Scope) -> Response:
        path = scope["path"]
        if scope["method"] not in ("GET", "HEAD"):
            return READ_ONLY_ALLOWED
        if path == "/healthz":
            return HEALTHY
        if path == "/readyz":
            return await self.readiness()
        return self.metrics_response(scope)

    async def readiness(self) -> Response:
        """Ready while reads can be served; a read-only store is ready, and says
        that uploads are not taken."""
        try:
            ready = await self.storage.ready()
        except StorageUnavailable:
            ready = False
        if not ready:
            return plain(503, "storage not reachable")
        if self.takes_uploads and not await self.storage.writable():
            return plain(200, "ready; storage is read-only: uploads answer 503")
        return plain(200, "ready")

    def metrics_response(self, scope: Scope) -> Response:
        """With ``[metrics] token_env`` set, the bearer token; else loopback only."""
        if not self.metrics.enabled:
            return NOT_FOUND
        if self.metrics.token is not None:
            if not bearer_matches(scope["headers"], self.metrics.token):
                return UNAUTHORIZED
        elif not _loopback(scope.get("client")):
            return METRICS_LOOPBACK_ONLY
        body, content_type = exposition()
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        return Response(200, headers, body)


def _loopback(client) -> bool:
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False
