"""The ASGI application: GET and HEAD of stored files, with their folder's policy.

Written against the raw ASGI interface, like Starlette's StaticFiles, because the
hot path must be short: one stat, a cache lookup, the precondition checks and a
send. The HTTP decisions live in pure modules (conditional, ranges,
representation); this module only reads the request and sends what they decide.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from origin.config import Config, ConfigError, default_config, load_config, reloaded
from origin.http.conditional import (
    NO_PRECONDITIONS,
    Preconditions,
    evaluate_preconditions,
    if_range_allows,
)
from origin.http.credentials import bearer_matches
from origin.http.ranges import ByteRange, Unsatisfiable, parse_range
from origin.ops.access_log import Observer
from origin.ops.metrics import InstrumentedStorage, exposition
from origin.serve.body_cache import BodyCache
from origin.serve.links import verify, version_of
from origin.serve.paths import RESERVED_PATHS, storage_path
from origin.serve.representation import Headers, Representation
from origin.serve.representations import Representations, StorageBusy
from origin.upload.api import Api
from storage.base import FileChanged, OpenFile, Storage, StorageUnavailable
from storage.filesystem import FilesystemStorage

logger = logging.getLogger("media_origin")

CONFIG_ENV = "MEDIA_ORIGIN_CONFIG"
READ_METHODS = b"GET, HEAD"
ALL_METHODS = b"GET, HEAD, PUT, POST, DELETE"
_WRITES = frozenset({"PUT", "POST", "DELETE"})
_CONDITIONAL_HEADERS = frozenset(
    {b"if-match", b"if-unmodified-since", b"if-none-match", b"if-modified-since"}
)
_RANGE_HEADERS = frozenset({b"range", b"if-range"})
_INTERESTING = _CONDITIONAL_HEADERS | _RANGE_HEADERS


def _plain(status: int, text: str, extra: Headers = ()) -> tuple[int, Headers, bytes]:
    """A short text/plain response that no cache keeps: never an HTML page, which
    Meta would report as 'Unsupported mime type text/html'."""
    body = f"{text}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        *extra,
    ]
    return status, headers, body


NOT_FOUND = _plain(404, "Not Found")
WRITES_DISABLED = _plain(403, "Forbidden: writes are disabled (no API token is configured)")
UNAUTHORIZED = _plain(401, "Unauthorized", [(b"www-authenticate", b'Bearer realm="media-origin"')])
PRECONDITION_FAILED = _plain(412, "Precondition Failed")
SERVICE_UNAVAILABLE = _plain(503, "Service Unavailable", [(b"retry-after", b"1")])
UNAVAILABLE = _plain(503, "Service Unavailable: storage unreachable", [(b"retry-after", b"5")])
INTERNAL_ERROR = _plain(500, "Internal Server Error: the server log has the details")
GATEWAY_TIMEOUT = _plain(504, "Gateway Timeout: storage too slow", [(b"retry-after", b"5")])


class BodyAborted(RuntimeError):
    """The file changed after the response headers were sent."""


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
        self.observer = Observer(config.log, config.policies, measure=config.metrics.enabled)
        self.representations = Representations(self.storage, config.policies)
        self.bodies = BodyCache()
        self.api = Api(config, self.storage, self.representations, measure=config.metrics.enabled)
        self.signing_key = config.api.signing_key
        self.any_signed = any(p.signed for p in config.policies.by_folder.values())
        self.method_not_allowed = _plain(
            405,
            "Method Not Allowed",
            [(b"allow", ALL_METHODS if self.api.enabled else READ_METHODS)],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] in RESERVED_PATHS:
                await self.service(scope, send)
            elif self.observer.active:
                await self.observer.observe(self.handle, scope, receive, send)
            else:
                await self.handle(scope, receive, send)
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
                self.observer.out.flush()
                self.storage.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def reload(self) -> bool:
        """Read config.toml again and apply its policies and log settings; a config
        with a mistake is refused with a logged error and the old one stays."""
        new = reloaded(self.config)
        if new is None:
            return False
        self.config = new
        self.representations.reset(new.policies)
        self.any_signed = any(p.signed for p in new.policies.by_folder.values())
        self.observer.out.flush()
        self.observer = Observer(new.log, new.policies, measure=new.metrics.enabled)
        logger.warning("reload: %s applied", self.config.path)
        return True

    async def service(self, scope: Scope, send: Send) -> None:
        """/healthz, /readyz and /metrics: never cached, never a stored file."""
        path, method = scope["path"], scope["method"]
        if method not in ("GET", "HEAD"):
            await _send_canned(
                send, _plain(405, "Method Not Allowed", [(b"allow", READ_METHODS)]), method
            )
        elif path == "/healthz":
            await _send_canned(send, _plain(200, "ok"), method)
        elif path == "/readyz":
            try:
                ready = await self.storage.ready()
            except StorageUnavailable:
                ready = False
            if not ready:
                response = _plain(503, "storage not reachable")
            elif self.api.enabled and not await self.storage.writable():
                # Reads are served, so the instance is ready; uploads are not taken.
                response = _plain(200, "ready; storage is read-only: uploads answer 503")
            else:
                response = _plain(200, "ready")
            await _send_canned(send, response, method)
        else:
            await self.metrics(scope, send)

    async def metrics(self, scope: Scope, send: Send) -> None:
        settings = self.config.metrics
        method = scope["method"]
        if not settings.enabled:
            await _send_canned(send, NOT_FOUND, method)
            return
        if settings.token is not None:
            if not bearer_matches(scope["headers"], settings.token):
                await _send_canned(send, UNAUTHORIZED, method)
                return
        elif not _loopback(scope.get("client")):
            await _send_canned(
                send, _plain(403, "Forbidden: /metrics answers loopback only"), method
            )
            return
        body, content_type = exposition()
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method != "GET" and method != "HEAD":
            await self.write(method, scope, receive, send)
            return
        url_path = scope["path"]
        path = storage_path(url_path)
        if path is None:
            if url_path.endswith("/") and b"list" in scope["query_string"]:
                await self.list(scope, send)
            else:
                await _send_canned(send, NOT_FOUND, method)
            return
        if self.any_signed and not await self.signature_valid(scope, url_path, method, send):
            return
        request_headers = _interesting_headers(scope["headers"])
        try:
            try:
                representation = await self.representations.get(url_path, path)
                if representation is None:
                    # A token holder's /folder?list gets told about the missing slash.
                    asked_to_list = b"list" in scope["query_string"]
                    if not (asked_to_list and await self.api.missing_slash(scope, send)):
                        await _send_canned(send, NOT_FOUND, method)
                    return
                await self.respond(
                    self.versioned(scope, url_path, representation),
                    path,
                    method,
                    request_headers,
                    receive,
                    send,
                )
            except FileChanged:
                # Replaced between our stat and our open: serve the version that is
                # there now, pinned by its descriptor, so no writer can win again.
                self.representations.forget(url_path)
                await self.respond_pinned(scope, url_path, path, request_headers, receive, send)
        except StorageBusy as error:
            logger.warning("%s kept changing while being served (%s)", url_path, error)
            await _send_canned(send, SERVICE_UNAVAILABLE, method)
        except StorageUnavailable as error:
            # Never a 404 a CDN would keep, never a hang: a 503 (or 504) to retry.
            logger.warning("storage unavailable for %s: %s", url_path, error)
            await _send_canned(send, GATEWAY_TIMEOUT if error.timeout else UNAVAILABLE, method)

    async def respond_pinned(
        self,
        scope: Scope,
        url_path: str,
        path: str,
        request_headers: dict[bytes, str],
        receive: Receive,
        send: Send,
    ) -> None:
        opened = await self.storage.open_current(path)
        if opened is None:
            await _send_canned(send, NOT_FOUND, scope["method"])
            return
        try:
            representation = await self.representations.for_open(url_path, path, opened)
            await self.respond(
                self.versioned(scope, url_path, representation),
                path,
                scope["method"],
                request_headers,
                receive,
                send,
                opened,
            )
        except FileChanged as error:  # rewritten in place even under a held descriptor
            raise StorageBusy(str(error)) from None
        finally:
            opened.close()

    async def write(self, method: str, scope: Scope, receive: Receive, send: Send) -> None:
        """PUT, POST, DELETE: only with the API token."""
        try:
            await self._write(method, scope, receive, send)
        except StorageUnavailable as error:
            logger.warning("storage unavailable for %s %s: %s", method, scope["path"], error)
            await _send_canned(send, GATEWAY_TIMEOUT if error.timeout else UNAVAILABLE, method)
        except Exception:
            # A bug, not a refusal: logged with its traceback here, because granian
            # answers an app's exception with a bare 500 and logs nothing.
            logger.exception("%s %s failed", method, scope["path"])
            with contextlib.suppress(Exception):
                await _send_canned(send, INTERNAL_ERROR, method)

    async def _write(self, method: str, scope: Scope, receive: Receive, send: Send) -> None:
        if method not in _WRITES:
            await _send_canned(send, self.method_not_allowed, method)
        elif not self.api.enabled:
            await _send_canned(send, WRITES_DISABLED, method)
        elif not self.api.authorized(scope["headers"]):
            await _send_canned(send, UNAUTHORIZED, method)
        elif method == "PUT":
            await self.api.put(scope, receive, send)
        elif method == "POST":
            await self.api.post(scope, receive, send)
        else:
            await self.api.delete(scope, send)

    async def list(self, scope: Scope, send: Send) -> None:
        """GET /folder/?list: for the token holder; to everyone else a folder stays a 404."""
        query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        has_authorization = any(name == b"authorization" for name, _ in scope["headers"])
        if "list" not in query or not has_authorization or not self.api.enabled:
            await _send_canned(send, NOT_FOUND, scope["method"])
        elif not self.api.authorized(scope["headers"]):
            await _send_canned(send, UNAUTHORIZED, scope["method"])
        else:
            await self.api.listing(scope, send)

    async def signature_valid(self, scope: Scope, url_path: str, method: str, send: Send) -> bool:
        """Signed folders answer only a valid, unexpired ?expires=&sig= (403 otherwise)."""
        if not self.config.policies.for_path(url_path).signed:
            return True
        query = scope["query_string"].decode("latin-1")
        reason = verify(self.signing_key or b"", url_path, query, time.time())
        if reason is None:
            return True
        await _send_canned(send, _plain(403, f"Forbidden: {reason}"), method)
        return False

    def versioned(self, scope: Scope, url_path: str, current: Representation) -> Representation:
        """A ``?v=`` matching the current bytes gets the immutable variant; a stale one,
        the folder's normal policy (never an error)."""
        if not current.policy.versioned_links_immutable:
            return current
        query_string = scope["query_string"]
        if b"v=" not in query_string or current.content_hash is None:
            return current
        wanted = parse_qs(query_string.decode("latin-1")).get("v", [""])[0]
        if wanted and wanted == version_of(current.content_hash):
            return self.representations.versioned(url_path, current)
        return current

    async def respond(
        self,
        representation: Representation,
        path: str,
        method: str,
        request_headers: dict[bytes, str],
        receive: Receive,
        send: Send,
        opened: OpenFile | None = None,
    ) -> None:
        """Preconditions, then Range, then the body (RFC 9110 section 13.2.2).

        ``opened`` is the file already open at the representation's version (the
        pinned path); else it is opened here, and only if a body is sent.
        """
        etag, last_modified = representation.etag, representation.last_modified
        if request_headers:
            status = evaluate_preconditions(_preconditions(request_headers), etag, last_modified)
            if status == 304:
                await _send_without_body(send, 304, representation.not_modified_headers)
                return
            if status == 412:
                await _send_canned(send, PRECONDITION_FAILED, method)
                return
        size = representation.stat.size
        selected = (
            _selected_range(request_headers, size, representation) if method == "GET" else None
        )
        if isinstance(selected, Unsatisfiable):
            extra = [(b"content-range", selected.content_range().encode())]
            await _send_canned(send, _plain(416, "Range Not Satisfiable", extra), method)
            return
        if method == "HEAD":
            await _send_without_body(send, 200, representation.ok_headers)
            return
        if selected is None:
            status, headers, start, stop = 200, [*representation.ok_headers], 0, size
        else:
            status, start, stop = 206, selected.start, selected.stop
            headers = [
                (b"content-length", str(selected.size).encode()),
                (b"content-range", selected.content_range(size).encode()),
                *representation.partial_headers,
            ]
        if size <= self.bodies.max_file:
            body = await self._small_body(path, representation, opened)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send(
                {"type": "http.response.body", "body": body[start:stop] if selected else body}
            )
            return
        file = opened or await self.storage.open(path, representation.stat)
        try:
            chunks = file.chunks(start, stop)
            try:
                # Read before any header is sent: on every backend the first read
                # confirms the version (S3's If-Match, the filesystem's fstat), so
                # a file replaced since its stat is served anew, not cut.
                first = await anext(chunks)
            except BaseException:
                await chunks.aclose()
                raise
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await _send_body(first, chunks, stop - start, receive, send)
        finally:
            if opened is None:
                file.close()

    async def _small_body(
        self, path: str, representation: Representation, opened: OpenFile | None
    ) -> bytes:
        """The whole body of a small file, from memory once it has been read."""
        version = representation.stat.version
        body = self.bodies.get(version)
        if body is None:
            file = opened or await self.storage.open(path, representation.stat)
            try:
                body = bytes(await file.read(0, representation.stat.size))
            finally:
                if opened is None:
                    file.close()
            self.bodies.put(version, body)
        return body


def _interesting_headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """The precondition and range headers; repeated lines are joined as a list."""
    found: dict[bytes, str] = {}
    for name, value in raw:
        if name in _INTERESTING:
            text = value.decode("latin-1")
            found[name] = f"{found[name]}, {text}" if name in found else text
    return found


def _preconditions(headers: dict[bytes, str]) -> Preconditions:
    if not _CONDITIONAL_HEADERS.intersection(headers):
        return NO_PRECONDITIONS
    return Preconditions(
        if_match=headers.get(b"if-match"),
        if_unmodified_since=headers.get(b"if-unmodified-since"),
        if_none_match=headers.get(b"if-none-match"),
        if_modified_since=headers.get(b"if-modified-since"),
    )


def _selected_range(
    headers: dict[bytes, str], size: int, representation: Representation
) -> ByteRange | Unsatisfiable | None:
    header = headers.get(b"range")
    if header is None:
        return None
    if not if_range_allows(
        headers.get(b"if-range"), representation.etag, representation.last_modified
    ):
        return None
    return parse_range(header, size)


async def _send_body(
    first: bytes,
    chunks: AsyncGenerator[bytes, None],
    length: int,
    receive: Receive,
    send: Send,
) -> None:
    """Send ``first``, then stream the rest; stop reading as soon as the client is gone.

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
        # Headers are out; all that is left is to cut the connection so the
        # client sees a short body, never a silently different one.
        raise BodyAborted(str(error)) from error
    finally:
        if watcher is not None:
            watcher.cancel()
        await chunks.aclose()


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    disconnected.set()


async def _send_without_body(send: Send, status: int, headers: Headers) -> None:
    """A 304, or a HEAD's 200. The header list is copied: middleware may change it in place."""
    await send({"type": "http.response.start", "status": status, "headers": [*headers]})
    await send({"type": "http.response.body", "body": b""})


async def _send_canned(send: Send, response: tuple[int, Headers, bytes], method: str) -> None:
    status, headers, body = response
    await send({"type": "http.response.start", "status": status, "headers": [*headers]})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def _loopback(client) -> bool:
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


def make_storage(config: Config) -> Storage:
    """The backend named by ``[storage] backend``."""
    if config.storage.s3 is not None:
        from storage.s3 import S3Storage

        s3 = config.storage.s3
        return S3Storage(
            s3.bucket, s3.prefix, s3.endpoint_url, s3.region, s3.metadata_ttl, s3.timeout
        )
    return FilesystemStorage(config.storage.root)


def create_app(config_path: str | os.PathLike[str] | None = None) -> MediaOrigin:
    """App factory, e.g. ``uvicorn --factory origin.app:create_app``.

    The config is ``config_path``, else ``$MEDIA_ORIGIN_CONFIG``, else
    ``./config.toml``, else the built-in default serving ``./media``.
    """
    return MediaOrigin(resolve_config(config_path))


def resolve_config(config_path: str | os.PathLike[str] | None) -> Config:
    """Find and load the config; raise ConfigError for a bad or missing explicit one.

    A failure says where it looked and how to give a config: the operator who runs
    a command outside the repository must learn both from the one line."""
    if config_path:
        return load_config(config_path)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        if not Path(from_env).exists():
            raise ConfigError(
                f"${CONFIG_ENV} names {from_env}, which does not exist: "
                f"point it at a config file, or unset it"
            )
        return load_config(from_env)
    default = Path.cwd() / "config.toml"
    if default.exists():
        return load_config(default)
    try:
        return default_config(Path.cwd())
    except ConfigError as error:
        raise ConfigError(
            f"no ./config.toml here ({Path.cwd()}), ${CONFIG_ENV} is not set, and the "
            f"built-in default failed: {error}; give a config with --config PATH "
            f"or {CONFIG_ENV}=PATH"
        ) from None
