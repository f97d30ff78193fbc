"""Why the upload API stores nothing: the ``Refused`` error, the refusals the
rules make (``refusal``), the ones the request or the storage make, and the one
way a refusal is sent. Each message names what was wrong and the fix, because
the reader is someone at a terminal with curl, not a program."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from starlette.types import Send

from origin.upload.answers import send_json
from origin.whatsapp.problems import ERROR, Problem
from origin.whatsapp.sniff import base_type
from storage.base import StorageConflict, StorageFull, StorageReadOnly, StorageUnavailable

_STATUS_BY_CODE = {"active_content": 415, "too_large": 413}
_TYPE_CODES = {"unsupported_type", "content_type_mismatch"}
FORM_ENCODED = "application/x-www-form-urlencoded"  # curl's default for -d/--data-binary


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


async def send_refusal(send: Send, refused: Refused, close: bool = True) -> None:
    """A refused upload closes its connection (``close``): the body may be unread
    (refused at the door, or cut at the limit), and a client that keeps the
    connection would send its next request after bytes the server never read.
    A DELETE or a listing has no body to leave unread, and keeps it."""
    await send_json(send, refused.status, refused.body(), close=close)


async def send_gone(send: Send, path: str) -> None:
    """The body stopped with the connection (a client gone, or a chunked body the
    server could not read, which granian reports the same way). Answer anyway:
    a client still there gets a JSON 400, not the server's bare 500 for an app
    that sent nothing; for one that is gone, the send is dropped."""
    with contextlib.suppress(Exception):
        await send_refusal(send, incomplete(path, "with the connection"))


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


# The refusals of the request itself, by what was wrong with it.


def invalid_path(url_path: str) -> Refused:
    return Refused(
        400,
        "invalid_path",
        f"{url_path!r} cannot be stored: no empty, '.' or '..' segments, no dot-files, "
        "no backslashes or control characters, no trailing /, not a path the server "
        "itself answers (/healthz, /readyz, /metrics, /_jobs/): choose a name like "
        "/campaigns/promo.jpg",
        url_path,
    )


def bad_content_length(value: bytes, url_path: str) -> Refused:
    shown = value[:40].decode("latin-1")
    return Refused(
        400,
        "bad_content_length",
        f"Content-Length {shown!r} is not a byte count: send the body's size in bytes, or "
        "let the client set it (curl -T FILE URL does)",
        url_path,
    )


def content_type_mismatch(url_path: str, declared: str, expected: str) -> Refused:
    """A PUT whose Content-Type is not the type its name is served as; most often a
    client's default (curl --data-binary's form type) rather than a choice."""
    folder, name = split_path(url_path)
    found = f"Content-Type {declared} but the name {name} is served as {expected}"
    if base_type(declared) == FORM_ENCODED:
        fix = (
            f"that is curl's default for --data-binary, not the file's type: use "
            f"curl -T {name} URL, or --data-binary @{name} with "
            f"-H 'Content-Type: {expected}'"
        )
    elif base_type(declared) == "multipart/form-data":
        fix = f"a form is POSTed to its folder ({folder}); PUT sends the bare file: "
        fix += f"curl -T {name} URL"
    else:
        fix = f"send Content-Type: {expected} (or none), or give the file the name of its type"
    return Refused(415, "content_type_mismatch", f"{found}: {fix}", url_path)


def not_a_folder(path: str) -> Refused:
    """POST to a file's path: most often ``curl --data-binary``, which POSTs."""
    folder, name = split_path(path)
    return Refused(
        400,
        "not_a_folder",
        f"POST uploads a form into a folder, and {path} does not end with /: PUT the file "
        f"itself to {path} (curl -T {name} URL; curl --data-binary POSTs unless given -X PUT), "
        f"or POST a form to {folder} (curl -F 'file=@{name}' URL)",
        path,
    )


def not_multipart(folder: str, declared: str) -> Refused:
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


def malformed(path: str, reason: str) -> Refused:
    return Refused(
        400,
        "malformed_multipart",
        f"the multipart body cannot be read: {reason}; let the client build the form "
        "(curl -F 'file=@photo.jpg' URL/folder/), or PUT each file (curl -T photo.jpg URL)",
        path,
    )


def too_many_files(folder: str, most: int) -> Refused:
    return Refused(
        413,
        "too_many_files",
        f"the form holds more than {most} files; at most {most} a request: send the rest "
        "in another POST",
        folder,
    )


def no_files(folder: str) -> Refused:
    return Refused(
        400,
        "no_files",
        "the form holds no file (no part has a filename): attach each file "
        "with an @, as in curl -F 'file=@photo.jpg'",
        folder,
    )


def incomplete(path: str, when: str) -> Refused:
    return Refused(
        400, "incomplete_body", f"the body ended {when}; nothing was stored, send it again", path
    )


def conflict(error: StorageConflict, path: str) -> Refused:
    return Refused(
        409,
        "conflict",
        f"{error}: store the file under another name, or DELETE what is there first",
        path,
    )


def split_path(path: str) -> tuple[str, str]:
    """``/campaigns/promo.jpg`` as its folder (``/campaigns/``) and its name."""
    folder, _, name = path.rpartition("/")
    return folder + "/", name
