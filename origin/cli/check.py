"""``media-origin check``: every stored file (or the ones named) against
WhatsApp's rules, with a verdict each."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from origin.cli.errors import CommandError
from origin.cli.progress import Progress, files_checked
from origin.config import Config
from origin.serve.paths import RESERVED_PATHS, RESERVED_PREFIXES
from origin.whatsapp.inspection import inspect_file
from origin.whatsapp.problems import ERROR, Problem, Report, format_size

VERDICTS = ("reject", "warn", "ok")


class CheckError(CommandError):
    """A PATH argument that names nothing to check."""


def files_to_check(root: Path, arguments: Iterable[str]) -> list[tuple[Path, str]]:
    """(file on disk, name it is reported and served under), sorted, dotfiles left out.

    An argument is a path on disk, or a stored path such as ``/campaigns/a.jpg``;
    none means the whole storage.
    """
    arguments = list(arguments) or [str(root)]
    found: dict[Path, str] = {}
    for argument in arguments:
        target = Path(argument)
        if not target.exists():
            target = root / argument.lstrip("/")
        if not target.exists():
            raise CheckError(f"{argument}: no such file or folder (here or in {root})")
        for file in _walk(target) if target.is_dir() else [target]:
            found[file.resolve()] = _served_name(root, file)
    return sorted(found.items(), key=lambda item: item[1])


def _walk(folder: Path) -> Iterable[Path]:
    for directory, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(directory) / name


def _served_name(root: Path, file: Path) -> str:
    try:
        return "/" + file.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(file)  # outside the storage: checked all the same, under its own name


def run_check(config: Config, arguments: list[str], as_json: bool, out: TextIO) -> int:
    root = config.storage.root
    if root is None and (config.storage.s3 is not None or not arguments):
        raise CheckError(
            "check reads a filesystem storage; for a bucket, run it on the files before "
            "uploading them, or media-origin explain on their links"
        )
    # Files on disk with no storage to check them against: named from this folder.
    files = files_to_check(root if root is not None else Path.cwd(), arguments)
    reports = []
    progress = Progress(len(files), files_checked, worth_showing=len(files) > 1)
    for file, name in files:
        report = inspect_file(file, name)
        if name in RESERVED_PATHS or name.startswith(RESERVED_PREFIXES):
            report.problems.append(
                Problem(
                    "reserved_path",
                    ERROR,
                    f"{name} is under the origin's own service paths: this file is never served",
                )
            )
        reports.append(report)
        progress.advance()
    progress.clear()
    if as_json:
        json.dump([report.to_json() for report in reports], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(format_reports(reports))
    return 1 if any(report.verdict == "reject" for report in reports) else 0


def format_reports(reports: list[Report]) -> str:
    """Grouped by verdict, worst first, then one summary line."""
    lines = []
    for verdict in VERDICTS:
        group = [report for report in reports if report.verdict == verdict]
        if not group:
            continue
        lines.append(f"{verdict} ({len(group)})")
        for report in group:
            kind = report.whatsapp_type or "not WhatsApp media"
            lines.append(
                f"  {report.path}  [{kind}, {report.content_type}, {format_size(report.size)}]"
            )
            lines += [f"    {p.level}: {p.code}: {p.message}" for p in report.problems]
    counts = ", ".join(
        f"{sum(r.verdict == verdict for r in reports)} {verdict}" for verdict in reversed(VERDICTS)
    )
    files = "1 file" if len(reports) == 1 else f"{len(reports)} files"
    lines.append(f"{files} checked: {counts}")
    return "\n".join(lines) + "\n"
