"""``media-origin convert``: stored files made into what WhatsApp accepts, written
next to the original under the new type's extension (``clip.mov`` ->
``clip.mp4``). Bytes behind an existing link are never replaced unless asked
(``--replace``): Meta caches a link by its exact URL, so a replaced file can
still be fetched as it was for a while. When the converted file would take the
original's own name, it is written as ``<name>-whatsapp.<ext>`` instead.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from origin.app import make_storage
from origin.cli.check import files_to_check
from origin.cli.errors import CommandError
from origin.cli.progress import Progress
from origin.config import Config
from origin.convert.conversions import Converter
from origin.convert.tools import ConversionFailed
from origin.serve.paths import storage_path
from origin.upload import staging
from origin.upload.refusal import Refused
from origin.whatsapp.inspection import inspect_file
from origin.whatsapp.problems import extension_of, format_size
from storage.base import Storage
from storage.copying import copy_to_file

CHUNK = 1024 * 1024


@dataclass
class Outcome:
    path: str
    state: str  # "converted", "would_convert" (--dry-run), "unchanged" or "failed"
    stored_as: str | None = None
    converted: dict[str, object] | None = None
    error: dict[str, str] | None = None

    def to_json(self) -> dict[str, object]:
        body: dict[str, Any] = {"path": self.path, "state": self.state}
        for key in ("stored_as", "converted", "error"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body


def run_convert(
    config: Config,
    arguments: list[str],
    asked: str | None,
    dry_run: bool,
    replace: bool,
    as_json: bool,
    out: TextIO,
) -> int:
    names = stored_names(config, arguments)
    outcomes = asyncio.run(_convert_all(config, names, asked, dry_run, replace))
    if as_json:
        json.dump([o.to_json() for o in outcomes], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(format_outcomes(outcomes, dry_run))
    return 1 if any(outcome.state == "failed" for outcome in outcomes) else 0


def stored_names(config: Config, arguments: list[str]) -> list[str]:
    """The stored paths to convert: files and folders of a disk storage (as for
    ``check``), or a bucket's stored paths as given."""
    if not arguments:
        raise CommandError("name the stored files to convert, e.g. /voice/note.webm")
    if config.storage.root is not None:
        found = files_to_check(config.storage.root, arguments)
        outside = [name for _, name in found if not name.startswith("/") or not storage_path(name)]
        if outside:
            raise CommandError(f"{outside[0]}: not in the storage ({config.storage.root})")
        return [name for _, name in found]
    for argument in arguments:
        if storage_path(argument) is None:
            raise CommandError(f"{argument}: not a stored path such as /voice/note.webm")
    return list(arguments)


async def _convert_all(
    config: Config, names: list[str], asked: str | None, dry_run: bool, replace: bool
) -> list[Outcome]:
    storage = make_storage(config)
    converter = Converter(config.convert)
    progress = Progress(len(names) * 100, _converting, worth_showing=True)
    try:
        outcomes = []
        for name in names:
            tell = _told(progress, progress.done)
            outcome = await _convert_one(
                config, storage, converter, name, asked, dry_run, replace, tell
            )
            outcomes.append(outcome)
            tell("done", 100)
        return outcomes
    finally:
        progress.clear()
        converter.close()
        storage.close()


def _told(progress: Progress, start: int) -> Any:
    """A file's (state, percent) as the bar's advance: each file is 100 units."""
    return lambda state, percent: progress.advance(start + percent - progress.done)


def _converting(done: int, total: int) -> str:
    share = done / total if total else 1.0
    return f"converting [{'#' * int(share * 30):<30}] {share:4.0%} of {total // 100} file(s)"


async def _convert_one(
    config: Config,
    storage: Storage,
    converter: Converter,
    name: str,
    asked: str | None,
    dry_run: bool,
    replace: bool,
    progress: Any,
) -> Outcome:
    path = storage_path(name) or ""
    work = await asyncio.to_thread(converter.area.new_folder)
    try:
        source = work / f"source{extension_of(name)}"
        if await copy_to_file(storage, path, source) is None:
            return Outcome(name, "failed", error={"error": "not_found", "message": "no such file"})
        report = await asyncio.to_thread(inspect_file, source, name)
        folder_as = config.policies.for_path(name).convert_as
        try:
            converted = await converter.convert(source, name, report, asked, folder_as, progress)
        except ConversionFailed as failed:
            return Outcome(name, "failed", error={"error": failed.code, "message": failed.message})
        if converted is None:
            return Outcome(name, "unchanged")
        try:
            target = converted.name
            if target == name and not replace:
                target = (
                    target[: -len(extension_of(target))] + "-whatsapp" + converted.output.suffix
                )
            if not replace and await storage.stat(storage_path(target) or "") is not None:
                message = (
                    f"{target} exists and is not replaced (Meta caches a link by its exact URL, "
                    "for 10 minutes or more): pass --replace to write over it"
                )
                return Outcome(name, "failed", error={"error": "exists", "message": message})
            if not dry_run:
                await _store(storage, target, converted.output)
        finally:
            converter.finished_with(converted)
        state = "would_convert" if dry_run else "converted"
        return Outcome(name, state, stored_as=target, converted=converted.to_json())
    except Refused as refused:
        return Outcome(name, "failed", error={"error": refused.code, "message": refused.message})
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _store(storage: Storage, name: str, output: Path) -> None:
    """Through the upload's own steps: whole or not at all."""
    upload = await staging.start(storage, name, force=False)
    try:
        with output.open("rb") as file:
            while chunk := file.read(CHUNK):
                await staging.write(upload, chunk)
        await upload.writer.commit()
    finally:
        await upload.writer.abort()


def format_outcomes(outcomes: list[Outcome], dry_run: bool) -> str:
    lines = []
    for outcome in outcomes:
        if outcome.state in ("converted", "would_convert"):
            verb = "would convert" if dry_run else "converted"
            made = (outcome.converted or {}).get("to", {})
            size = format_size(int(made.get("size", 0))) if isinstance(made, dict) else ""
            lines.append(f"{verb} {outcome.path} -> {outcome.stored_as} ({size})")
            lines += [f"    {step}" for step in (outcome.converted or {}).get("steps", [])]
        elif outcome.state == "unchanged":
            lines.append(f"unchanged {outcome.path}: already what WhatsApp accepts")
        else:
            lines.append(f"failed {outcome.path}: {(outcome.error or {}).get('message')}")
    counts = {
        state: sum(o.state == state for o in outcomes)
        for state in ("converted", "would_convert", "unchanged", "failed")
    }
    done = counts["would_convert"] if dry_run else counts["converted"]
    files = "1 file" if len(outcomes) == 1 else f"{len(outcomes)} files"
    verb = "would be converted" if dry_run else "converted"
    lines.append(
        f"{files}: {done} {verb}, {counts['unchanged']} unchanged, {counts['failed']} failed"
    )
    return "\n".join(lines) + "\n"
