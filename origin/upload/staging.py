"""The steps every upload takes, PUT or POST: refused by its name before a byte is
spooled (``start``), by its size as it comes (``write``), by the rules once it is
whole (``check``); only then made visible (``commit``). A file is seen whole or
not at all, and a request's files all or none."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from origin.serve.paths import RESERVED_PATHS, RESERVED_PREFIXES, storage_path
from origin.upload.refusal import Refused, conflict, content_type_mismatch, invalid_path, refusal
from origin.whatsapp.inspection import check_type, inspect_file
from origin.whatsapp.media_types import content_type_for, script_capable_name
from origin.whatsapp.problems import Problem, Report, format_size
from origin.whatsapp.rules import (
    LARGEST_MEDIA_BYTES,
    convertible_name,
    rule_for_name,
    shrink_hint,
)
from origin.whatsapp.sniff import base_type
from storage.base import FileStat, Storage, StorageConflict, Writer

HARD_LIMIT = LARGEST_MEDIA_BYTES  # even ?force=true stores nothing larger


@dataclass(frozen=True)
class Upload:
    """A file being received: where it goes, its writer, the most it may be."""

    url_path: str
    path: str  # in the storage
    writer: Writer
    limit: int


@dataclass(frozen=True)
class Committed:
    """A file made visible, with the warnings the rules had (forced, or not errors)."""

    upload: Upload
    stat: FileStat
    replaced: bool
    problems: list[Problem]
    converted: dict[str, object] | None = None  # from, to and steps, when it was converted


async def start(storage: Storage, url_path: str, force: bool, converting: bool = False) -> Upload:
    """A writer for ``url_path``, once its name is one the rules can store (or,
    ``converting``, one a conversion can start from: a .mov, a .wav, a .heic)."""
    path = storage_path(url_path)
    if path is None or reserved(url_path):
        raise invalid_path(url_path)
    rule = rule_for_name(path)
    convertible = converting and convertible_name(path)
    if (rule is None and not force and not convertible) or script_capable_name(path):
        # Refused by its name before a byte is spooled; active content even forced.
        problem = inspect_name_only(url_path)
        raise Refused(415, problem.code, problem.message, url_path, [problem])
    # What a conversion starts from may be over the type's limit: it is made to fit.
    limit = HARD_LIMIT if force or rule is None or convertible else rule.max_bytes
    try:
        # The type it is served as; a store that keeps one per object (S3) keeps it.
        writer = await storage.create(path, content_type=content_type_for(url_path))
    except StorageConflict as error:
        raise conflict(error, url_path) from None
    return Upload(url_path, path, writer, limit)


def inspect_name_only(url_path: str) -> Problem:
    """What the name alone says is wrong: active content first, else an unsupported type."""
    problems = check_type(url_path, None, content_type_for(url_path), None)
    return min(problems, key=lambda p: p.code != "active_content")


def check_declared_type(url_path: str, declared: str) -> None:
    """A PUT's Content-Type, if any, is the type of its name (or octet-stream)."""
    expected = content_type_for(url_path)
    if declared and base_type(declared) not in (base_type(expected), "application/octet-stream"):
        raise content_type_mismatch(url_path, declared, expected)


def check_declared_length(upload: Upload, length: int | None, force: bool) -> None:
    """Refused before a byte of the body is read, if it says it is too large."""
    if length is not None and length > upload.limit:
        raise too_large(upload.url_path, upload.limit, size=length, force=force)


async def write(upload: Upload, chunk: bytes) -> None:
    received = upload.writer.size + len(chunk)
    if received > upload.limit:
        # A body without Content-Length (chunked): stopped where it passes the
        # limit, so its size is known only as "at least".
        raise too_large(upload.url_path, upload.limit, received=received)
    await upload.writer.write(chunk)


def too_large(
    url_path: str, limit: int, size: int | None = None, received: int = 0, force: bool = False
) -> Refused:
    """413 with the size (declared, or "at least" what came), the limit and the fix."""
    rule = rule_for_name(url_path)
    whatsapp_type = whatsapp_type_of(url_path)
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
        fix = shrink_hint(whatsapp_type, url_path)
    message = f"{whatsapp_type or 'upload'} {told}; the limit here is {format_size(limit)}: {fix}"
    return Refused(413, "too_large", message, url_path)


async def check_and_commit(uploads: list[Upload], force: bool) -> list[Committed]:
    """Check every file whole, then make them all visible; or none (the caller
    aborts every writer when this raises)."""
    checked = []
    for upload in uploads:
        report = await inspect_whole(upload)
        refused = refusal(report.problems, force, upload.url_path)
        if refused is not None:
            raise refused
        checked.append(Checked(upload, report.problems))
    return await commit_all(checked)


@dataclass(frozen=True)
class Checked:
    """A file the rules let through, about to be made visible."""

    upload: Upload
    problems: list[Problem]
    converted: dict[str, object] | None = None


async def inspect_whole(upload: Upload) -> Report:
    """The rules' report on a file whose every byte has arrived."""
    await upload.writer.finish()
    return await asyncio.to_thread(inspect_file, upload.writer.local_path, upload.url_path)


async def commit_all(checked: list[Checked]) -> list[Committed]:
    """Make every checked file visible, in order (the caller aborts the rest if one fails)."""
    committed = []
    for item in checked:
        try:
            stat, replaced = await item.upload.writer.commit()
        except StorageConflict as error:
            raise conflict(error, item.upload.url_path) from None
        committed.append(Committed(item.upload, stat, replaced, item.problems, item.converted))
    return committed


def reserved(url_path: str) -> bool:
    """The origin's own paths, never a stored file's."""
    return url_path in RESERVED_PATHS or url_path.startswith(RESERVED_PREFIXES)


def whatsapp_type_of(name: str) -> str | None:
    """What WhatsApp sends a file of this name as (image, video, ...), if anything."""
    rule = rule_for_name(name)
    return rule.whatsapp_type if rule else None


async def abort_all(uploads: list[Upload]) -> None:
    for upload in uploads:
        await upload.writer.abort()
