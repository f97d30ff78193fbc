"""The write side: authenticated uploads (PUT a file, POST files to a folder),
DELETE and folder listings. Every upload is checked by the same rules as
``media-origin check`` before it becomes visible, and becomes visible whole
or not at all. This module routes; the steps are in ``staging``, the form in
``multipart``, the refusals in ``refusal``, the answers in ``results``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import Receive, Scope, Send

from origin.config import Config
from origin.http.credentials import bearer_matches
from origin.serve.representations import Representations
from origin.upload import listing, staging
from origin.upload.answers import send_json, send_not_found
from origin.upload.conversion import Conversions, Wanted, conversion_wanted
from origin.upload.multipart import FilePart, file_parts, form_boundary
from origin.upload.refusal import (
    Refused,
    incomplete,
    no_files,
    not_a_folder,
    send_gone,
    send_refusal,
    storage_failures,
)
from origin.upload.removal import delete_file
from origin.upload.request import ClientGone, body, declared_length, flag, header, query
from origin.upload.results import Accepted, Stored, describe, send_stored
from origin.upload.staging import Committed, Upload
from storage.base import Storage

__all__ = ["Api", "storage_failures"]


class Api:
    def __init__(
        self,
        config: Config,
        storage: Storage,
        representations: Representations,
        count: Callable[[int, str | None], None] | None = None,
    ) -> None:
        """``count(stored, refused_code)``: told of every upload answered, when
        metrics are kept (the app gives ``origin.ops.metrics.count_uploads``; the
        write side does not reach up into operations itself)."""
        self.count = count
        self.config = config
        self.storage = storage
        self.representations = representations
        self._token = config.api.token or None
        self.conversions = Conversions(config, storage, self.describe)

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        return bearer_matches(headers, self._token)

    async def put(self, scope: Scope, receive: Receive, send: Send) -> None:
        """PUT /{path}: the body is the file."""
        url_path, force, uploads = scope["path"], flag(scope, "force"), []

        async def receive_file() -> list[Stored] | Accepted:
            wanted = conversion_wanted(self.config, scope, url_path)
            length = declared_length(header(scope, b"content-length"), url_path)
            staging.check_declared_type(
                url_path, (header(scope, b"content-type") or b"").decode("latin-1")
            )
            upload = await self._start(uploads, url_path, force, wanted)
            staging.check_declared_length(upload, length, force)
            async for chunk in body(receive):
                await staging.write(upload, chunk)
            if length is not None and upload.writer.size != length:
                raise incomplete(url_path, f"after {upload.writer.size} of {length} bytes")
            return await self._finish(uploads, force, wanted, single=True)

        stored = await self._attempt(send, url_path, uploads, receive_file())
        if stored is not None:
            await send_stored(send, stored, single=True)

    async def post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /{folder}/: a multipart/form-data form, each file part a file."""
        folder, force, uploads = scope["path"], flag(scope, "force"), []

        async def receive_form() -> list[Stored] | Accepted:
            if not folder.endswith("/"):
                raise not_a_folder(folder)
            wanted = conversion_wanted(self.config, scope, folder)
            boundary = form_boundary(folder, header(scope, b"content-type") or b"")
            async for event in file_parts(receive, boundary, folder):
                if isinstance(event, FilePart):
                    await self._start(uploads, folder + event.name, force, wanted)
                else:
                    await staging.write(uploads[-1], event)
            if not uploads:
                raise no_files(folder)
            return await self._finish(uploads, force, wanted, single=False)

        stored = await self._attempt(send, folder, uploads, receive_form())
        if stored is not None:
            await send_stored(send, stored, single=False)

    async def _attempt(
        self,
        send: Send,
        path: str,
        uploads: list[Upload],
        steps: Awaitable[list[Stored] | Accepted],
    ) -> list[Stored] | Accepted | None:
        """Run an upload's steps; what they store, or None once a refusal (or the
        client's leaving) is answered. Whatever ends them early, every writer is
        aborted: nothing stored, nothing left in the staging."""
        try:
            with storage_failures(path):
                stored = await steps
        except Refused as refused:
            await staging.abort_all(uploads)
            if self.count is not None:
                self.count(0, refused.code)
            await send_refusal(send, refused)
            return None
        except ClientGone:
            await staging.abort_all(uploads)
            await send_gone(send, path)
            return None
        except BaseException:
            await staging.abort_all(uploads)
            raise
        if self.count is not None and not isinstance(stored, Accepted):
            self.count(len(stored), None)
        return stored

    async def _start(
        self, uploads: list[Upload], url_path: str, force: bool, wanted: Wanted | None
    ) -> Upload:
        upload = await staging.start(self.storage, url_path, force, converting=wanted is not None)
        uploads.append(upload)
        return upload

    async def _finish(
        self, uploads: list[Upload], force: bool, wanted: Wanted | None, single: bool
    ) -> list[Stored] | Accepted:
        if wanted is not None:
            return await self.conversions.finish(uploads, force, wanted, single)
        return [self.describe(file) for file in await staging.check_and_commit(uploads, force)]

    def describe(self, committed: Committed) -> Stored:
        return describe(self.config, self.representations, committed)

    async def delete(self, scope: Scope, send: Send) -> None:
        """DELETE /{path}: 204, or a JSON 404 that says how to see what is there."""
        await delete_file(self.storage, self.representations, scope["path"], send)

    async def missing_slash(self, scope: Scope, send: Send) -> bool:
        """``GET /campaigns?list``: a listing asked for without its trailing slash,
        which the server would otherwise read as a file path and answer with a bare
        404. To the token holder, a JSON 404 that names the fix; True when answered.
        To anyone else it stays the plain 404 (as a folder does, see ``listing``).

        Called by ``MediaOrigin.read`` where a GET finds no file at the path."""
        path = scope["path"]
        if scope.get("method", "GET") != "GET" or path.endswith("/") or "list" not in query(scope):
            return False  # HEAD keeps the bodiless plain 404
        if not self.authorized(scope["headers"]):
            return False
        await send_not_found(send, path, listing.missing_slash(path))
        return True

    async def listing(self, scope: Scope, send: Send) -> None:
        """GET /{folder}/?list: the folder's files as JSON."""
        folder = scope["path"]
        if (why := listing.no_such_folder(folder)) is not None:
            await send_not_found(send, folder, why)
            return
        try:
            with storage_failures(folder):
                files = await listing.list_folder(self.storage, self.representations, folder)
        except Refused as refused:
            await send_refusal(send, refused, close=False)
            return
        await send_json(send, 200, [file.to_json() for file in files])
