"""The write side: authenticated uploads (PUT a file, POST files to a folder),
DELETE and folder listings. Every upload is checked by the same rules as
``media-origin check`` before it becomes visible, and becomes visible whole
or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.types import Receive, Send

from origin.config import Config
from origin.http.credentials import bearer_matches
from origin.http.dates import format_http_date
from origin.ops import metrics
from origin.serve.links import signed_url, version_of
from origin.serve.paths import RESERVED_PATHS, storage_path
from origin.serve.representation import last_modified_of
from origin.serve.representations import Representations, StorageBusy
from origin.whatsapp.inspection import ERROR, Problem, format_size, inspect_file
from origin.whatsapp.media_types import content_type_for, script_capable_name
from origin.whatsapp.rules import LARGEST_MEDIA_BYTES, rule_for_name, shrink_hint
from origin.whatsapp.sniff import base_type
from storage.base import (
    Storage,
    StorageConflict,
    StorageFull,
    StorageReadOnly,
    StorageUnavailable,
    Writer,
)

HARD_LIMIT = LARGEST_MEDIA_BYTES  # even ?force=true stores nothing larger
SIGNED_URL_SECONDS = 24 * 3600
MAX_FILES_PER_POST = 100
# RFC 2046 section 5.1.1: a boundary is 1 to 70 characters.
MAX_BOUNDARY_LENGTH = 70
# A part's headers (Content-Disposition, Content-Type) fit in a few hundred bytes;
# these bounds keep a hostile form from growing memory through them.
MAX_PART_HEADER_BYTES = 16 * 1024
MAX_PART_HEADERS = 16
# No file is larger than 10**19 bytes: a longer Content-Length is no number to trust.
MAX_LENGTH_DIGITS = 19
_STATUS_BY_CODE = {"active_content": 415, "too_large": 413}
_TYPE_CODES = {"unsupported_type", "content_type_mismatch"}
FORM_ENCODED = "application/x-www-form-urlencoded"  # curl's default for -d/--data-binary


class ClientGone(Exception):
    """The client disconnected before the body was complete."""


class Refused(Exception):
    """An upload the API will not store; ``status`` and a JSON body say why."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        path: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.path = status, code, message, path
        self.problems = problems or []

    def body(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": self.message,
            "path": self.path,
            "problems": [p.to_json() for p in self.problems],
        }


def refusal(problems: list[Problem], force: bool, path: str) -> Refused | None:
    """Whether the rules refuse an upload: 413 for size, 415 for type, 422 for the rest.

    ``force`` stores anyway, except active content (HTML, SVG, XML), which never is.
    """
    errors = [p for p in problems if p.level == ERROR]
    if force:
        errors = [p for p in errors if p.code == "active_content"]
    if not errors:
        return None
    first = min(errors, key=lambda p: (p.code != "active_content", p.code != "too_large"))
    status = _STATUS_BY_CODE.get(first.code, 415 if first.code in _TYPE_CODES else 422)
    return Refused(status, first.code, first.message, path, errors)


@dataclass
class Upload:
    url_path: str
    path: str
    writer: Writer
    limit: int


class Api:
    def __init__(
        self,
        config: Config,
        storage: Storage,
        representations: Representations,
        measure: bool = False,
    ) -> None:
        self.measure = measure
        self.config = config
        self.storage = storage
        self.representations = representations
        self._token = config.api.token or None

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        return bearer_matches(headers, self._token)

    # PUT /{path}

    async def put(self, scope, receive: Receive, send: Send) -> None:
        url_path = scope["path"]
        force = _flag(scope, "force")
        headers = dict(scope["headers"])
        try:
            with storage_failures(url_path):
                length = _declared_length(headers.get(b"content-length"), url_path)
                self._check_declared_type(
                    url_path, headers.get(b"content-type", b"").decode("latin-1")
                )
                upload = await self._start(url_path, force)
                try:
                    if length is not None and length > upload.limit:
                        # Refused before a byte of the body is read.
                        raise self._too_large(url_path, length, upload.limit, force)
                    async for chunk in _body(receive):
                        await self._write(upload, chunk)
                    if length is not None and upload.writer.size != length:
                        raise _incomplete(url_path, f"after {upload.writer.size} of {length} bytes")
                    (result,) = await self._finish([upload], force)
                except BaseException:
                    await upload.writer.abort()
                    raise
        except Refused as refused:
            self._count(refused=refused)
            await _refuse(send, refused)
            return
        except ClientGone:
            await _answer_gone(send, url_path)
            return
        self._count(stored=1)
        await _json(send, 200 if result["replaced"] else 201, _public(result))

    # POST /{folder}/  (multipart/form-data)

    async def post(self, scope, receive: Receive, send: Send) -> None:
        folder = scope["path"]
        force = _flag(scope, "force")
        uploads: list[Upload] = []
        try:
            with storage_failures(folder):
                if not folder.endswith("/"):
                    raise _not_a_folder(folder)
                content_type = dict(scope["headers"]).get(b"content-type", b"")
                kind, options = parse_options_header(content_type)
                if kind != b"multipart/form-data" or b"boundary" not in options:
                    raise _not_multipart(folder, content_type.decode("latin-1"))
                boundary = options[b"boundary"]
                if not 0 < len(boundary) <= MAX_BOUNDARY_LENGTH:
                    raise _malformed(
                        folder,
                        f"the boundary is {len(boundary)} characters; "
                        f"RFC 2046 allows 1 to {MAX_BOUNDARY_LENGTH}",
                    )
                await self._receive_parts(folder, boundary, force, receive, uploads)
                if not uploads:
                    raise Refused(
                        400,
                        "no_files",
                        "the form holds no file (no part has a filename): attach each file "
                        "with an @, as in curl -F 'file=@photo.jpg'",
                        folder,
                    )
                results = await self._finish(uploads, force)
        except Refused as refused:
            await _abort_all(uploads)
            self._count(refused=refused)
            await _refuse(send, refused)
            return
        except ClientGone:
            await _abort_all(uploads)
            await _answer_gone(send, folder)
            return
        except BaseException:
            await _abort_all(uploads)
            raise
        self._count(stored=len(results))
        status = 200 if all(result["replaced"] for result in results) else 201
        await _json(send, status, [_public(result) for result in results])

    def _count(self, stored: int = 0, refused: Refused | None = None) -> None:
        if not self.measure:
            return
        if stored:
            metrics.UPLOADS.labels("stored").inc(stored)
        if refused is not None:
            metrics.UPLOADS.labels("refused").inc()
            metrics.REJECTIONS.labels(refused.code).inc()

    async def _receive_parts(self, folder, boundary, force, receive, uploads) -> None:
        """Stream each file part into its own writer; the parser's callbacks only
        queue events, which are then handled here, with awaits."""
        events: list[tuple[str, bytes]] = []
        header: dict[str, bytes] = {"field": b"", "value": b""}
        part_headers: dict[bytes, bytes] = {}

        def bounded(name: str, data: bytes) -> None:
            header[name] += data
            if len(header["field"]) + len(header["value"]) > MAX_PART_HEADER_BYTES:
                raise _malformed(folder, f"a part header is over {MAX_PART_HEADER_BYTES} bytes")

        def on_header_field(data, start, end):
            bounded("field", data[start:end])

        def on_header_value(data, start, end):
            bounded("value", data[start:end])

        def on_header_end():
            part_headers[header["field"].lower()] = header["value"]
            header["field"] = header["value"] = b""
            if len(part_headers) > MAX_PART_HEADERS:
                raise _malformed(folder, f"a part has more than {MAX_PART_HEADERS} headers")

        def on_headers_finished():
            events.append(("begin", part_headers.get(b"content-disposition", b"")))
            part_headers.clear()

        parser = MultipartParser(
            boundary,
            {
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_headers_finished": on_headers_finished,
                "on_part_data": lambda data, start, end: events.append(("data", data[start:end])),
                "on_part_end": lambda: events.append(("end", b"")),
            },
        )
        current: Upload | None = None
        async for chunk in _body(receive):
            try:
                parser.write(chunk)
            except FormParserError as error:
                raise _malformed(folder, str(error)) from None
            for event, data in events:
                if event == "begin":
                    current = await self._begin_part(folder, data, force, uploads)
                elif event == "data" and current is not None:
                    await self._write(current, data)
                elif event == "end":
                    current = None
            events.clear()
        if parser.state != MultipartState.END:
            raise _incomplete(folder, "before the closing boundary")

    async def _begin_part(self, folder, disposition, force, uploads) -> Upload | None:
        _, options = parse_options_header(disposition)
        filename = options.get(b"filename")
        if filename is None:
            return None  # a plain form field: not a file
        if len(uploads) >= MAX_FILES_PER_POST:
            raise Refused(
                413,
                "too_many_files",
                f"the form holds more than {MAX_FILES_PER_POST} files; at most "
                f"{MAX_FILES_PER_POST} a request: send the rest in another POST",
                folder,
            )
        name = filename.decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
        upload = await self._start(folder + name, force)
        uploads.append(upload)
        return upload

    # the steps every upload takes

    async def _start(self, url_path: str, force: bool) -> Upload:
        path = storage_path(url_path)
        if path is None or url_path in RESERVED_PATHS:
            raise Refused(
                400,
                "invalid_path",
                f"{url_path!r} cannot be stored: no empty, '.' or '..' segments, no dot-files, "
                "no backslashes or control characters, no trailing /, not a path the server "
                "itself answers (/healthz, /readyz, /metrics): choose a name like "
                "/campaigns/promo.jpg",
                url_path,
            )
        rule = rule_for_name(path)
        if (rule is None and not force) or script_capable_name(path):
            # Refused by its name before a byte is spooled; active content even forced.
            problem = inspect_name_only(url_path)
            raise Refused(415, problem.code, problem.message, url_path, [problem])
        limit = HARD_LIMIT if force or rule is None else rule.max_bytes
        try:
            writer = await self.storage.create(path)
        except StorageConflict as conflict:
            raise _conflict(conflict, url_path) from None
        return Upload(url_path, path, writer, limit)

    def _check_declared_type(self, url_path: str, declared: str) -> None:
        expected = content_type_for(url_path)
        if declared and base_type(declared) not in (
            base_type(expected),
            "application/octet-stream",
        ):
            name = url_path.rsplit("/", 1)[-1]
            found = f"Content-Type {declared} but the name {name} is served as {expected}"
            if base_type(declared) == FORM_ENCODED:
                fix = (
                    f"that is curl's default for --data-binary, not the file's type: use "
                    f"curl -T {name} URL, or --data-binary @{name} with "
                    f"-H 'Content-Type: {expected}'"
                )
            elif base_type(declared) == "multipart/form-data":
                fix = (
                    f"a form is POSTed to its folder ({url_path.rsplit('/', 1)[0]}/); "
                    f"PUT sends the bare file: curl -T {name} URL"
                )
            else:
                fix = (
                    f"send Content-Type: {expected} (or none), or give the file the name "
                    "of its type"
                )
            raise Refused(415, "content_type_mismatch", f"{found}: {fix}", url_path)

    async def _write(self, upload: Upload, chunk: bytes) -> None:
        received = upload.writer.size + len(chunk)
        if received > upload.limit:
            # A body without Content-Length (chunked): stopped where it passes the
            # limit, so its size is known only as "at least".
            raise self._too_large(upload.url_path, None, upload.limit, received=received)
        await upload.writer.write(chunk)

    def _too_large(
        self,
        url_path: str,
        size: int | None,
        limit: int,
        force: bool = False,
        received: int = 0,
    ) -> Refused:
        """413 with the size (declared, or "at least" what came), the limit and the fix."""
        rule = rule_for_name(url_path)
        what = rule.whatsapp_type if rule else "upload"
        if size is not None:
            told = f"is {format_size(size)} ({size:,} bytes, its Content-Length)"
        else:
            told = (
                f"is at least {format_size(received)} ({received:,} bytes received before the "
                "upload was stopped)"
            )
        if limit >= HARD_LIMIT and (force or rule is None):
            fix = f"nothing over {format_size(HARD_LIMIT)} is stored, even with ?force=true"
        else:
            fix = shrink_hint(rule.whatsapp_type if rule else None, url_path)
        message = f"{what} {told}; the limit here is {format_size(limit)}: {fix}"
        return Refused(413, "too_large", message, url_path)

    async def _finish(self, uploads: list[Upload], force: bool) -> list[dict[str, object]]:
        """Check every file whole, then make them all visible; or none."""
        checked = []
        for upload in uploads:
            await upload.writer.finish()
            report = await asyncio.to_thread(
                inspect_file, upload.writer.local_path, upload.url_path
            )
            refused = refusal(report.problems, force, upload.url_path)
            if refused is not None:
                raise refused
            checked.append((upload, report.problems))
        results = []
        for upload, problems in checked:
            try:
                stat, replaced = await upload.writer.commit()
            except StorageConflict as conflict:
                raise _conflict(conflict, upload.url_path) from None
            results.append(await self._describe(upload, stat, replaced, problems))
        return results

    async def _describe(self, upload: Upload, stat, replaced: bool, problems) -> dict[str, object]:
        digest = upload.writer.digest
        representation = self.representations.publish(upload.url_path, stat, digest)
        headers = dict(representation.ok_headers)
        url = self.config.server.base_url + quote(upload.url_path)
        result: dict[str, object] = {
            "path": upload.url_path,
            "url": url,
            "versioned_url": f"{url}?v={version_of(digest)}",
            "size": stat.size,
            "content_type": content_type_for(upload.url_path),
            "whatsapp_type": (rule.whatsapp_type if (rule := rule_for_name(upload.path)) else None),
            "etag": _text(headers.get(b"etag")),
            "last_modified": _text(headers.get(b"last-modified"))
            or format_http_date(last_modified_of(stat, time.time())),
            "warnings": [p.to_json() for p in problems],
            "replaced": replaced,
        }
        key = self.config.api.signing_key
        if representation.policy.signed and key is not None:
            expires = int(time.time()) + SIGNED_URL_SECONDS
            result["signed_url"] = signed_url(
                self.config.server.base_url, key, upload.url_path, expires
            )
        return result

    # DELETE /{path}, GET /{folder}/?list

    async def delete(self, scope, send: Send) -> None:
        path = storage_path(scope["path"])
        try:
            with storage_failures(scope["path"]):
                deleted = path is not None and await self.storage.delete(path)
        except Refused as refused:
            await _json(send, refused.status, refused.body())
            return
        if not deleted:
            folder = scope["path"].rsplit("/", 1)[0] + "/"
            message = (
                f"no such file: nothing is stored at {scope['path']}; "
                f"GET {folder}?list shows what that folder holds"
            )
            await _json(
                send, 404, {"error": "not_found", "message": message, "path": scope["path"]}
            )
            return
        self.representations.forget(scope["path"])
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def missing_slash(self, scope, send: Send) -> bool:
        """``GET /campaigns?list``: a listing asked for without its trailing slash,
        which the server would otherwise read as a file path and answer with a bare
        404. To the token holder, a JSON 404 that names the fix; True when answered.
        To anyone else it stays the plain 404 (as a folder does, see ``listing``).

        Called by ``MediaOrigin.handle`` where a GET finds no file at the path."""
        path = scope["path"]
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if scope.get("method", "GET") != "GET" or path.endswith("/") or "list" not in query:
            return False  # HEAD keeps the bodiless plain 404
        if not self.authorized(scope["headers"]):
            return False
        message = f"{path} is not a file; to list the folder, add a trailing slash: {path}/?list"
        await _json(send, 404, {"error": "not_found", "message": message, "path": path})
        return True

    async def listing(self, scope, send: Send) -> None:
        folder = scope["path"]
        prefix = folder.strip("/")
        if prefix and storage_path("/" + prefix) is None:
            message = (
                f"no such folder: {folder} cannot hold stored files (no dot-files, '.' or '..' "
                "segments, backslashes or control characters); list a folder like /campaigns/?list"
            )
            await _json(send, 404, {"error": "not_found", "message": message, "path": folder})
            return
        try:
            with storage_failures(folder):
                listed = await self.storage.list(prefix)
        except Refused as refused:
            await _json(send, refused.status, refused.body())
            return
        files = []
        for name, stat in listed:
            url_path = f"/{prefix}/{name}" if prefix else f"/{name}"
            rule = rule_for_name(name)
            entry: dict[str, object] = {
                "path": url_path,
                "size": stat.size,
                "content_type": content_type_for(name),
                "whatsapp_type": rule.whatsapp_type if rule else None,
                "etag": None,
                "last_modified": format_http_date(last_modified_of(stat, time.time())),
            }
            try:
                representation = await self.representations.get(url_path, url_path[1:])
            except (StorageUnavailable, StorageBusy) as error:
                # One file that cannot be read is reported, not the folder's failure.
                entry["error"] = str(error) or "the file kept changing"
            else:
                if representation is None:
                    continue
                entry["etag"] = _text(dict(representation.ok_headers).get(b"etag"))
            files.append(entry)
        await _json(send, 200, files)


@contextlib.contextmanager
def storage_failures(url_path: str) -> Iterator[None]:
    """A write the storage cannot take is answered in JSON, like any refusal: 507 when
    there is no room, 503 when it is read-only. Nothing is half-written either way."""
    try:
        yield
    except StorageFull as error:
        raise Refused(507, "storage_full", f"{error}; free space, then retry", url_path) from None
    except StorageReadOnly as error:
        raise Refused(
            503,
            "storage_read_only",
            f"{error}; make the storage writable by the server's user, then retry",
            url_path,
        ) from None
    except StorageUnavailable as error:
        status = 504 if error.timeout else 503
        raise Refused(status, "storage_unavailable", f"{error}; retry", url_path) from None


def _declared_length(value: bytes | None, url_path: str) -> int | None:
    """Content-Length as a number, refusing what no file could be before ``int()``."""
    if value is None:
        return None
    if not value.isdigit() or len(value) > MAX_LENGTH_DIGITS:
        shown = value[:40].decode("latin-1")
        raise Refused(
            400,
            "bad_content_length",
            f"Content-Length {shown!r} is not a byte count: send the body's size in bytes, or "
            "let the client set it (curl -T FILE URL does)",
            url_path,
        )
    return int(value)


async def _answer_gone(send: Send, path: str) -> None:
    """The body stopped with the connection (a client gone, or a chunked body the
    server could not read, which granian reports the same way). Answer anyway:
    a client still there gets a JSON 400, not the server's bare 500 for an app
    that sent nothing; for one that is gone, the send is dropped."""
    with contextlib.suppress(Exception):
        await _refuse(send, _incomplete(path, "with the connection"))


def _malformed(path: str, reason: str) -> Refused:
    return Refused(
        400,
        "malformed_multipart",
        f"the multipart body cannot be read: {reason}; let the client build the form "
        "(curl -F 'file=@photo.jpg' URL/folder/), or PUT each file (curl -T photo.jpg URL)",
        path,
    )


def _not_a_folder(path: str) -> Refused:
    """POST to a file's path: most often ``curl --data-binary``, which POSTs."""
    name = path.rsplit("/", 1)[-1]
    folder = path.rsplit("/", 1)[0] + "/"
    return Refused(
        400,
        "not_a_folder",
        f"POST uploads a form into a folder, and {path} does not end with /: PUT the file "
        f"itself to {path} (curl -T {name} URL; curl --data-binary POSTs unless given -X PUT), "
        f"or POST a form to {folder} (curl -F 'file=@{name}' URL)",
        path,
    )


def _not_multipart(folder: str, declared: str) -> Refused:
    found = f"Content-Type {declared}" if declared else "no Content-Type"
    if base_type(declared) == FORM_ENCODED:
        found += " (what curl --data-binary sends)"
    return Refused(
        415,
        "not_multipart",
        f"POST needs multipart/form-data with files, and this request has {found}: send a "
        f"form (curl -F 'file=@photo.jpg' URL{folder}), or PUT each file to its own path "
        f"(curl -T photo.jpg URL{folder}photo.jpg)",
        folder,
    )


def _conflict(conflict: StorageConflict, path: str) -> Refused:
    return Refused(
        409,
        "conflict",
        f"{conflict}: store the file under another name, or DELETE what is there first",
        path,
    )


def _incomplete(path: str, when: str) -> Refused:
    return Refused(
        400, "incomplete_body", f"the body ended {when}; nothing was stored, send it again", path
    )


def inspect_name_only(url_path: str) -> Problem:
    """What the name alone says is wrong: active content first, else an unsupported type."""
    from origin.whatsapp.inspection import check_type

    problems = check_type(url_path, None, content_type_for(url_path), None)
    return min(problems, key=lambda p: p.code != "active_content")


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _abort_all(uploads: list[Upload]) -> None:
    for upload in uploads:
        await upload.writer.abort()


def _flag(scope, name: str) -> bool:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name, [])
    return any(value.lower() in ("true", "1", "yes") for value in values)


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


def _public(result: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in result.items() if key != "replaced"}


async def _refuse(send: Send, refused: Refused) -> None:
    """A refused upload closes its connection: the body may be unread (refused at
    the door, or cut at the limit), and a client that keeps the connection would
    send its next request after bytes the server never read."""
    await _json(send, refused.status, refused.body(), close=True)


async def _json(send: Send, status: int, body: object, close: bool = False) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode() + b"\n"
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
