"""The ASGI application: a router over the read side, the write side and the
operator's paths, with its lifespan and reload. ``create_app`` builds it wrapped
in the access log.

Written against the raw ASGI interface, like Starlette's StaticFiles, because the
hot path must be short: every part decides its answer as a value and
``origin.serve.responses`` sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from origin.cloudapi.bridge import Bridge
from origin.cloudapi.routes import WEBHOOK, handle_media, handle_webhook
from origin.config import Config, reloaded, resolve_config
from origin.console.routes import Console, Services
from origin.ops.access_log import AccessLog
from origin.ops.health import Health
from origin.ops.meta_fetches import META_FETCHES
from origin.ops.metrics import (
    InstrumentedStorage,
    count_media_ids,
    count_statuses,
    count_uploads,
)
from origin.serve.files import Files
from origin.serve.paths import CONSOLE, RESERVED_PATHS, storage_path
from origin.serve.representations import Representations
from origin.serve.responses import (
    INTERNAL_ERROR,
    NOT_FOUND,
    READ_METHODS,
    UNAUTHORIZED,
    plain,
    storage_failed,
)
from origin.serve.sender import send_response
from origin.upload.api import Api
from origin.upload.jobs import job_answer
from storage.base import Storage, StorageUnavailable
from storage.filesystem import FilesystemStorage
from storage.uploads import WorkArea

logger = logging.getLogger("media_origin")

ALL_METHODS = b"GET, HEAD, PUT, POST, DELETE"
_WRITES = frozenset({"PUT", "POST", "DELETE"})
JOBS = "/_jobs/"
WHATSAPP = "/_whatsapp/"
BRIDGE_AREA = Path(tempfile.gettempdir()) / "media-origin-whatsapp"
JOB_METHODS = plain(405, "Method Not Allowed: a job is only read", [(b"allow", READ_METHODS)])
WRITES_DISABLED = plain(403, "Forbidden: writes are disabled (no API token is configured)")


class MediaOrigin:
    """Serves the files of one storage under the policies of one config."""

    def __init__(self, config: Config, storage: Storage | None = None) -> None:
        self.config = config
        storage = storage or make_storage(config)
        if config.metrics.enabled and config.storage.s3 is not None:
            # A store's latency is worth a histogram; a local stat's (~2 µs) is not
            # worth what timing it costs on every request.
            storage = InstrumentedStorage(storage)
        self.storage = storage
        representations = Representations(storage, config.policies)
        self.files = Files(storage, representations, config.policies, config.api.signing_key)
        counting = config.metrics.enabled
        self.api = Api(config, storage, representations, count_uploads if counting else None)
        self.health = Health(storage, self.api.enabled, config.metrics)
        self.bridge = Bridge(
            config, storage, WorkArea(BRIDGE_AREA), count_media_ids if counting else None
        )
        self.count_statuses = count_statuses if counting else None
        self.console_pages = console_for(self, representations) if config.console.enabled else None
        self.method_not_allowed = plain(
            405,
            "Method Not Allowed",
            [(b"allow", ALL_METHODS if self.api.enabled else READ_METHODS)],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            if scope["path"] in RESERVED_PATHS:
                await send_response(send, await self.health.response(scope), method, receive)
            elif scope["path"].startswith(JOBS):
                await self.job(method, scope, receive, send)
            elif scope["path"].startswith((CONSOLE, WHATSAPP)) or scope["path"] == CONSOLE[:-1]:
                async with failures_answered(method, scope["path"], send, receive):
                    await self.service(method, scope, receive, send)
            elif method == "GET" or method == "HEAD":
                await self.read(scope, receive, send)
            else:
                await self.write(method, scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    # SIGHUP reloads the policies (a worker of a single-process server)
                    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reload)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.api.conversions.stop()  # its jobs fail, saying why
                self.bridge.close()
                self.storage.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def reload(self) -> bool:
        """Read config.toml again and apply its policies and log settings; a config
        with a mistake is refused with a logged error and the old one stays."""
        new = reloaded(self.config)
        if new is None:
            return False
        self.files.apply(new.policies)
        # Conversion, links and the console read the folder policies from their config.
        for holder in (self.api, self.bridge, self.console_pages):
            if holder is not None:
                holder.config = new
        self.config = new  # the access log sees the new one at its next request
        logger.warning("reload: %s applied", new.path)
        return True

    async def read(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GET and HEAD: a stored file, or a token holder's folder listing."""
        url_path = scope["path"]
        path = storage_path(url_path)
        if path is not None and await self.files.serve(scope, receive, send, path):
            return
        asked_to_list = b"list" in scope["query_string"]
        if path is None and url_path.endswith("/") and asked_to_list:
            await folder_listing(self.api, scope, receive, send)
        # No such file. A token holder's /folder?list gets told about the missing slash.
        elif not (path is not None and asked_to_list and await self.api.missing_slash(scope, send)):
            await send_response(send, NOT_FOUND, scope["method"], receive)

    async def write(self, method: str, scope: Scope, receive: Receive, send: Send) -> None:
        """PUT, POST, DELETE: only with the API token. A storage failure is answered
        by the API itself, in JSON; one that escapes it still gets its 503 or 504
        here. Anything else is a bug, logged with its traceback, because granian
        answers an app's exception with a bare 500 and logs nothing."""
        async with failures_answered(method, scope["path"], send, receive):
            if method not in _WRITES:
                await send_response(send, self.method_not_allowed, method, receive)
            elif not self.api.enabled:
                await send_response(send, WRITES_DISABLED, method, receive)
            elif not self.api.authorized(scope["headers"]):
                await send_response(send, UNAUTHORIZED, method, receive)
            else:
                await self.token_holders_write(method, scope, receive, send)

    async def token_holders_write(
        self, method: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """A write whose sender is known to hold the token (or a console session)."""
        if method == "PUT":
            await self.api.put(scope, receive, send)
        elif method == "POST":
            await self.api.post(scope, receive, send)
        else:
            known = await self.bridge.ids_of(scope["path"])
            await self.api.delete(scope, send)
            if known and await self.storage.stat(storage_path(scope["path"]) or "") is None:
                await self.bridge.forget(known, scope["path"])

    async def job(self, method: str, scope: Scope, receive: Receive, send: Send) -> None:
        """GET /_jobs/<id>: a conversion's state, for the token holder."""
        if method != "GET" and method != "HEAD":
            await send_response(send, JOB_METHODS, method, receive)
        elif not self.api.enabled or not self.api.authorized(scope["headers"]):
            await send_response(send, UNAUTHORIZED, method, receive)
        else:
            job = await self.api.conversions.jobs.load(scope["path"][len(JOBS) :])
            await send_response(send, job_answer(scope["path"], job), method, receive)

    async def service(self, method: str, scope: Scope, receive: Receive, send: Send) -> None:
        """/_console/ (off: every path a 404); /_whatsapp/: media IDs for the token
        holder, the webhook for the provider (proven by its signature). A storage
        failure is answered as for writes (the provider delivers a status again)."""
        if not scope["path"].startswith(WHATSAPP):
            if self.console_pages is None:
                await send_response(send, NOT_FOUND, method, receive)
            else:
                await self.console_pages(scope, receive, send)
        elif scope["path"] == WEBHOOK:
            await handle_webhook(
                self.config.whatsapp,
                self.storage.records,
                self.count_statuses,
                scope,
                receive,
                send,
            )
        elif not self.api.enabled or not self.api.authorized(scope["headers"]):
            await send_response(send, UNAUTHORIZED, method, receive)
        else:
            await handle_media(self.bridge, scope, receive, send)


def console_for(origin: MediaOrigin, representations: Representations) -> Console:
    """The console, doing its writes as the token holder's (its session stands in),
    shown Meta's fetches when the access log observes requests (log or metrics on)."""
    config = origin.config
    observed = config.metrics.enabled or config.log.access != "off"
    services = Services(
        origin.token_holders_write,
        representations,
        origin.bridge,
        origin.api.conversions.jobs.load,
        META_FETCHES.of if observed else None,
    )
    return Console(config, origin.storage, services)


async def folder_listing(api: Api, scope: Scope, receive: Receive, send: Send) -> None:
    """GET /folder/?list: for the token holder; to everyone else a folder stays a 404."""
    method = scope["method"]
    query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    asked = "list" in query
    has_authorization = any(name == b"authorization" for name, _ in scope["headers"])
    if not asked or not has_authorization or not api.enabled:
        await send_response(send, NOT_FOUND, method, receive)
    elif not api.authorized(scope["headers"]):
        await send_response(send, UNAUTHORIZED, method, receive)
    else:
        await api.listing(scope, send)


@contextlib.asynccontextmanager
async def failures_answered(
    method: str, path: str, send: Send, receive: Receive
) -> AsyncIterator[None]:
    """A storage failure answered 503 or 504 in JSON, anything else logged with its
    traceback and answered 500 (granian answers an app's exception with a bare 500
    and logs nothing); when the answer had already begun, nothing more is sent."""
    try:
        yield
    except StorageUnavailable as error:
        logger.warning("storage unavailable for %s %s: %s", method, path, error)
        with contextlib.suppress(Exception):
            await send_response(send, storage_failed(error), method, receive)
    except Exception:
        logger.exception("%s %s failed", method, path)
        with contextlib.suppress(Exception):
            await send_response(send, INTERNAL_ERROR, method, receive)


def make_storage(config: Config, diagnostic: bool = False) -> Storage:
    """The backend named by ``[storage] backend``; ``diagnostic`` for a command
    that only reads and must change nothing (see FilesystemStorage)."""
    if config.storage.s3 is not None:
        from storage.s3 import S3Storage

        s3 = config.storage.s3
        return S3Storage(
            s3.bucket, s3.prefix, s3.endpoint_url, s3.region, s3.metadata_ttl, s3.timeout
        )
    return FilesystemStorage(config.storage.root, diagnostic=diagnostic)


def build_app(config: Config) -> ASGIApp:
    """The app as every server runs it: the router, wrapped in the access log."""
    return AccessLog(MediaOrigin(config))


def create_app(config_path: str | os.PathLike[str] | None = None) -> ASGIApp:
    """App factory, e.g. ``uvicorn --factory origin.app:create_app``.

    The config is ``config_path``, else ``$MEDIA_ORIGIN_CONFIG``, else
    ``./config.toml``, else the built-in default serving ``./media``.
    """
    return build_app(resolve_config(config_path))
