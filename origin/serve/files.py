"""The read side: a GET or HEAD of a stored file, from the storage's stat to the
one sender. Thin around the pure parts: the representation (headers per file
version, cached), ``decide`` (preconditions, Range), the links (signatures,
``?v=``); what is left here is I/O and the one retry a replaced file needs."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from origin.policy import PolicyTable
from origin.serve.body_cache import BodyCache
from origin.serve.decision import decide, interesting_headers
from origin.serve.links import verify, version_of
from origin.serve.representation import Representation
from origin.serve.representations import Representations, StorageBusy
from origin.serve.responses import (
    BUSY,
    NOT_FOUND,
    FileResponse,
    Response,
    plain,
    storage_failed,
)
from origin.serve.sender import send_response
from storage.base import FileChanged, OpenFile, Storage, StorageUnavailable

logger = logging.getLogger("media_origin")


class Files:
    """Serves the stored files of one storage under one policy table."""

    def __init__(
        self,
        storage: Storage,
        representations: Representations,
        policies: PolicyTable,
        signing_key: bytes | None,
    ) -> None:
        self.storage = storage
        self.representations = representations
        self.bodies = BodyCache()
        self.signing_key = signing_key or b""
        self.apply(policies)

    def apply(self, policies: PolicyTable) -> None:
        """New policies (a reload): every representation is built again, lazily."""
        self.policies = policies
        self.representations.reset(policies)
        self.any_signed = any(p.signed for p in policies.by_folder.values())

    async def serve(self, scope: Scope, receive: Receive, send: Send, path: str) -> bool:
        """Answer a GET or HEAD of ``path``; False, having sent nothing, when there is
        no such file (the router then decides between a 404 and a listing hint).

        The one retry: a file replaced between its stat and its open (FileChanged)
        is served at the version that is there now, pinned by an open descriptor,
        so no writer can win the race a second time. A file rewritten in place
        even under that descriptor is a 503 to retry, never mixed bytes.
        """
        method, url_path = scope["method"], scope["path"]
        if self.any_signed:
            refused = self.signature_refusal(scope, url_path)
            if refused is not None:
                await send_response(send, refused, method, receive)
                return True
        request_headers = interesting_headers(scope["headers"])
        try:
            try:
                representation = await self.representations.get(url_path, path)
                if representation is None:
                    return False
                await self.respond(scope, representation, path, request_headers, receive, send)
            except FileChanged:
                self.representations.forget(url_path)
                await self.respond_pinned(scope, path, request_headers, receive, send)
        except StorageBusy as error:
            logger.warning("%s kept changing while being served (%s)", url_path, error)
            await send_response(send, BUSY, method, receive)
        except StorageUnavailable as error:
            logger.warning("storage unavailable for %s: %s", url_path, error)
            await send_response(send, storage_failed(error), method, receive)
        return True

    async def respond_pinned(
        self,
        scope: Scope,
        path: str,
        request_headers: dict[bytes, str],
        receive: Receive,
        send: Send,
    ) -> None:
        opened = await self.storage.open_current(path)
        if opened is None:
            await send_response(send, NOT_FOUND, scope["method"], receive)
            return
        try:
            representation = await self.representations.for_open(scope["path"], path, opened)
            await self.respond(scope, representation, path, request_headers, receive, send, opened)
        except FileChanged as error:
            raise StorageBusy(str(error)) from None
        finally:
            opened.close()

    async def respond(
        self,
        scope: Scope,
        representation: Representation,
        path: str,
        request_headers: dict[bytes, str],
        receive: Receive,
        send: Send,
        opened: OpenFile | None = None,
    ) -> None:
        """Decide, fetch the body the decision needs, send. ``opened`` is the file
        already open at the representation's version (the pinned path); else the
        file is opened here, and only if a body is sent."""
        method = scope["method"]
        decision = decide(self.versioned(scope, representation), method, request_headers)
        if type(decision) is Response:
            await send_response(send, decision, method, receive)
            return
        status, headers, start, stop = decision
        if representation.stat.size <= self.bodies.max_file:
            body = await self.small_body(path, representation, opened)
            if status == 206:
                body = body[start:stop]
            await send_response(send, Response(status, headers, body), method, receive)
            return
        file = opened or await self.storage.open(path, representation.stat, start, stop)
        try:
            response = FileResponse(status, headers, file, start, stop)
            await send_response(send, response, method, receive)
        finally:
            if opened is None:
                file.close()

    async def small_body(
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

    def signature_refusal(self, scope: Scope, url_path: str) -> Response | None:
        """Signed folders answer only a valid, unexpired ?expires=&sig= (403 otherwise)."""
        if not self.policies.for_path(url_path).signed:
            return None
        query = scope["query_string"].decode("latin-1")
        reason = verify(self.signing_key, url_path, query, time.time())
        return None if reason is None else plain(403, f"Forbidden: {reason}")

    def versioned(self, scope: Scope, current: Representation) -> Representation:
        """A ``?v=`` matching the current bytes gets the immutable variant; a stale one,
        the folder's normal policy (never an error)."""
        if not current.policy.versioned_links_immutable:
            return current
        query_string = scope["query_string"]
        if b"v=" not in query_string or current.content_hash is None:
            return current
        wanted = parse_qs(query_string.decode("latin-1")).get("v", [""])[0]
        if wanted and wanted == version_of(current.content_hash):
            return self.representations.versioned(scope["path"], current)
        return current
