"""The read side: a GET or HEAD of a stored file, from the storage's stat to the
one sender. Thin around the pure parts: the representation (headers per file
version, cached), ``decide`` (preconditions, Range), the links (signatures,
``?v=``); what is left here is I/O and the one retry a replaced file needs."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import NamedTuple
from urllib.parse import parse_qs

from origin.policy import PolicyTable
from origin.serve.body_cache import BodyCache
from origin.serve.decision import decide
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
from storage.base import FileChanged, OpenFile, Storage, StorageUnavailable

logger = logging.getLogger("media_origin")

Respond = Callable[[Response | FileResponse], Awaitable[None]]


class ReadRequest(NamedTuple):
    """What the read side needs of a GET or HEAD, whichever interface brought it
    (ASGI's scope or RSGI's): ``headers`` are the precondition and Range headers
    (``decision.interesting_headers``)."""

    method: str
    path: str  # the URL path, percent-decoded
    query_string: bytes
    headers: dict[bytes, str]


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

    async def serve(self, request: ReadRequest, respond: Respond, path: str) -> bool:
        """Answer a GET or HEAD of ``path`` through ``respond`` (the one sender, bound
        to the request's interface); False, having sent nothing, when there is no
        such file (the router then decides between a 404 and a listing hint).

        The one retry: a file replaced between its stat and its open (FileChanged)
        is served at the version that is there now, pinned by an open descriptor,
        so no writer can win the race a second time. A file rewritten in place
        even under that descriptor is a 503 to retry, never mixed bytes.
        """
        url_path = request.path
        if self.any_signed:
            refused = self.signature_refusal(request)
            if refused is not None:
                await respond(refused)
                return True
        try:
            try:
                representation = await self.representations.get(url_path, path)
                if representation is None:
                    return False
                await self.respond(request, representation, path, respond)
            except FileChanged:
                self.representations.forget(url_path)
                await self.respond_pinned(request, path, respond)
        except StorageBusy as error:
            logger.warning("%s kept changing while being served (%s)", url_path, error)
            await respond(BUSY)
        except StorageUnavailable as error:
            logger.warning("storage unavailable for %s: %s", url_path, error)
            await respond(storage_failed(error))
        return True

    async def respond_pinned(self, request: ReadRequest, path: str, respond: Respond) -> None:
        opened = await self.storage.open_current(path)
        if opened is None:
            await respond(NOT_FOUND)
            return
        try:
            representation = await self.representations.for_open(request.path, path, opened)
            await self.respond(request, representation, path, respond, opened)
        except FileChanged as error:
            raise StorageBusy(str(error)) from None
        finally:
            opened.close()

    async def respond(
        self,
        request: ReadRequest,
        representation: Representation,
        path: str,
        respond: Respond,
        opened: OpenFile | None = None,
    ) -> None:
        """Decide, fetch the body the decision needs, send. ``opened`` is the file
        already open at the representation's version (the pinned path); else the
        file is opened here, and only if a body is sent."""
        decision = decide(self.versioned(request, representation), request.method, request.headers)
        if type(decision) is Response:
            await respond(decision)
            return
        status, headers, start, stop = decision
        if representation.stat.size <= self.bodies.max_file:
            body = await self.small_body(path, representation, opened)
            if status == 206:
                body = body[start:stop]
            await respond(Response(status, headers, body))
            return
        file = opened or await self.storage.open(path, representation.stat, start, stop)
        try:
            await respond(FileResponse(status, headers, file, start, stop))
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

    def signature_refusal(self, request: ReadRequest) -> Response | None:
        """Signed folders answer only a valid, unexpired ?expires=&sig= (403 otherwise)."""
        if not self.policies.for_path(request.path).signed:
            return None
        query = request.query_string.decode("latin-1")
        reason = verify(self.signing_key, request.path, query, time.time())
        return None if reason is None else plain(403, f"Forbidden: {reason}")

    def versioned(self, request: ReadRequest, current: Representation) -> Representation:
        """A ``?v=`` matching the current bytes gets the immutable variant; a stale one,
        the folder's normal policy (never an error)."""
        if not current.policy.versioned_links_immutable:
            return current
        query_string = request.query_string
        if b"v=" not in query_string or current.content_hash is None:
            return current
        wanted = parse_qs(query_string.decode("latin-1")).get("v", [""])[0]
        if wanted and wanted == version_of(current.content_hash):
            return self.representations.versioned(request.path, current)
        return current
