"""A folder's page: its folders, then one page of its files with each file's
size, type, modified time and ``check`` verdict.

A folder of 10,000 files costs one directory read and 100 stats for the
default view (by name, or type, or filtered): only names decide which files
a page shows, so only the page's files are stat'ed. Sorting by size or
modified time needs every stat. Both the names and the stat'ed listing are
kept for ``LISTING_SECONDS`` (and dropped when the console writes into the
folder), so paging, sorting and filtering do not read 10,000 entries again;
a file put there by other means shows within those seconds.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from origin.console.listing import SORTS, Entry, Page, View, page_of, query_for
from origin.console.verdicts import Verdicts
from origin.policy import Policy
from origin.whatsapp.media_types import content_type_for
from origin.whatsapp.problems import Report, format_size
from storage.base import FileStat, FolderNames, Storage
from storage.bounded import remember

LISTING_SECONDS = 5.0
STAT_SORTS = ("size", "modified")
MAX_LISTINGS = 64


@dataclass(frozen=True, slots=True)
class Row:
    """One file as the table shows it."""

    name: str
    link: str  # its console page
    size: str
    content_type: str
    modified: str  # ISO 8601 UTC
    verdict: str | None  # ok, warn, reject; None: not checked yet
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FolderPage:
    folder: str  # "/campaigns"
    folders: tuple[tuple[str, str], ...]  # (name, console link)
    rows: tuple[Row, ...]
    shown: Page
    policy: Policy


class Folders:
    """Reads what a folder page shows from the storage, the verdicts kept."""

    def __init__(self, storage: Storage, verdicts: Verdicts) -> None:
        self.storage = storage
        self.verdicts = verdicts
        # (what, folder) -> (until when, what was read): "names" or "stats"
        self._kept: dict[tuple[str, str], tuple[float, Any]] = {}

    def changed(self, prefix: str) -> None:
        """A write into the folder: what was kept of it no longer holds."""
        for what in ("names", "stats"):
            self._kept.pop((what, prefix), None)

    async def page(self, prefix: str, view: View, policy: Policy) -> FolderPage:
        names, entries = await self._read("names", prefix, self._names)
        if view.sort in STAT_SORTS:  # every file's stat decides the order
            entries, stats = await self._read("stats", prefix, self._listing)
            shown = page_of(entries, view)
        else:  # names decide it: only the page's files are stat'ed
            shown = page_of(entries, view)
            stats = await self._stats(prefix, [entry.name for entry in shown.entries])
        present = [(entry, url_path(prefix, entry.name)) for entry in shown.entries]
        present = [(entry, path) for entry, path in present if entry.name in stats]
        reports = await self.verdicts.of_page(
            [(path, stats[entry.name].version) for entry, path in present]
        )
        rows = tuple(
            _row(entry, path, stats[entry.name], reports.get(path)) for entry, path in present
        )
        folders = tuple(
            (name, folder_link(url_path(prefix, name).lstrip("/")))
            for name in names.folders
            if shown.number == 1 and view.filter.casefold() in name.casefold()
        )
        return FolderPage("/" + prefix, folders, rows, shown, policy)

    async def _read(self, what: str, prefix: str, read: Callable[[str], Awaitable[Any]]) -> Any:
        """What ``read`` gives for the folder, kept for LISTING_SECONDS."""
        kept = self._kept.get((what, prefix))
        now = time.monotonic()
        if kept is not None and kept[0] > now:
            return kept[1]
        value = await read(prefix)
        remember(self._kept, (what, prefix), (now + LISTING_SECONDS, value), MAX_LISTINGS)
        return value

    async def _names(self, prefix: str) -> tuple[FolderNames, list[Entry]]:
        """The folder's names, and an entry for each (no size or time yet)."""
        names = await self.storage.names(prefix)
        return names, [Entry(name, 0, type_of(name), 0.0) for name in names.files]

    async def _listing(self, prefix: str) -> tuple[list[Entry], dict[str, FileStat]]:
        listed = await self.storage.list(prefix)
        entries = [Entry(name, stat.size, type_of(name), stat.mtime) for name, stat in listed]
        return entries, dict(listed)

    async def _stats(self, prefix: str, names: list[str]) -> dict[str, FileStat]:
        """The page's files, stat'ed together (one round trip's time on S3)."""
        paths = [url_path(prefix, name).lstrip("/") for name in names]
        found = await asyncio.gather(*(self.storage.stat(path) for path in paths))
        return {name: stat for name, stat in zip(names, found, strict=True) if stat is not None}


def url_path(prefix: str, name: str) -> str:
    return f"/{prefix}/{name}" if prefix else f"/{name}"


def folder_link(prefix: str) -> str:
    return quote(f"/_console/browse/{prefix}/" if prefix else "/_console/browse/")


def file_link(path: str) -> str:
    """A file's console page, by its stored path (``/campaigns/promo.jpg``)."""
    return quote(f"/_console/file{path}")


def _row(entry: Entry, path: str, stat: FileStat, report: Report | None) -> Row:
    problems = tuple(problem.message for problem in report.problems) if report else ()
    return Row(
        name=entry.name,
        link=file_link(path),
        size=format_size(stat.size),
        content_type=entry.content_type,
        modified=iso_time(stat.mtime),
        verdict=report.verdict if report is not None else None,
        problems=problems,
    )


def iso_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def columns(view: View) -> list[dict[str, str]]:
    """Each column's sort link, and how it sorts now (for aria-sort)."""
    order = "descending" if view.descending else "ascending"
    return [
        {
            "name": name,
            "query": query_for(view, sort=name, order=_toggled(view, name), page=1),
            "sorted": order if view.sort == name else "none",
        }
        for name in SORTS
    ]


def _toggled(view: View, column: str) -> str:
    """A column's link sorts by it ascending, or flips it when it is the sort already."""
    return "asc" if view.sort != column or view.descending else "desc"


def _suffixes(name: str) -> str:
    """What a name's type is read from: its last two suffixes (``.tar.gz``)."""
    parts = name.lower().rsplit(".", 2)
    return "." + ".".join(parts[1:]) if len(parts) > 1 else ""


def type_of(name: str) -> str:
    """``content_type_for(name)``, asked once per suffix rather than per name (a
    folder of 10,000 photos asks once). A name that starts with a dot is asked
    as it is: its leading dot may or may not be a suffix (``.jpg``, ``.c``)."""
    return content_type_for(name) if name.startswith(".") else _type_of(_suffixes(name))


@functools.lru_cache(maxsize=4096)
def _type_of(suffixes: str) -> str:
    return content_type_for("file" + suffixes)
