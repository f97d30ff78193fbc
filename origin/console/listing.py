"""What one page of a folder shows, as plain values: the entries filtered by the
filter box, sorted by the column asked for, and cut into pages, so that a
folder of 10,000 files is one page of PER_PAGE rows, not a 10,000-row table.
The query parameters are read leniently: a value that is not one of the
known ones falls back to the default, never to an error page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

PER_PAGE = 100
SORTS = ("name", "size", "type", "modified")


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    size: int
    content_type: str
    modified: float  # unix seconds


@dataclass(frozen=True, slots=True)
class View:
    """How the folder is asked to be shown (from the page's query string)."""

    sort: str = "name"
    descending: bool = False
    filter: str = ""
    page: int = 1


@dataclass(frozen=True, slots=True)
class Page:
    entries: tuple[Entry, ...]
    view: View
    number: int  # the page shown (the asked one, within range)
    pages: int  # how many there are (at least 1)
    matching: int  # entries that pass the filter


def view_from(query: Mapping[str, str]) -> View:
    sort = query.get("sort", "name")
    page = query.get("page", "1")
    return View(
        sort=sort if sort in SORTS else "name",
        descending=query.get("order") == "desc",
        filter=query.get("filter", "").strip()[:200],
        page=int(page) if page.isdigit() and 0 < len(page) < 7 else 1,
    )


def page_of(entries: Sequence[Entry], view: View, per_page: int = PER_PAGE) -> Page:
    """The entries matching the filter (a case-insensitive part of the name),
    sorted (by name within equal keys, so the order is stable), the page asked."""
    needle = view.filter.casefold()
    matching = [entry for entry in entries if needle in entry.name.casefold()]
    matching.sort(key=lambda entry: entry.name.casefold())
    if view.sort != "name":
        matching.sort(key=_keys[view.sort])
    if view.descending:
        matching.reverse()
    pages = max(1, -(-len(matching) // per_page))
    number = min(view.page, pages)
    start = (number - 1) * per_page
    return Page(tuple(matching[start : start + per_page]), view, number, pages, len(matching))


_keys = {
    "size": lambda entry: entry.size,
    "type": lambda entry: entry.content_type,
    "modified": lambda entry: entry.modified,
}


def query_for(view: View, **changes: object) -> str:
    """The query string of the same view with ``changes`` (sort, page, ...)."""
    fields = {
        "sort": view.sort,
        "order": "desc" if view.descending else "asc",
        "filter": view.filter,
        "page": view.page,
    }
    fields.update(changes)
    return urlencode({key: value for key, value in fields.items() if value not in ("", None)})
