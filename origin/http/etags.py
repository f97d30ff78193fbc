"""Entity tags: parsing the If-Match / If-None-Match / If-Range lists and comparing
them (RFC 9110 sections 8.8.3 and 13.1)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

# An entity-tag, or, leniently, a bare token some clients send unquoted.
_ETAG_ITEM = re.compile(r'[ \t]*(?:(W/)?"([^"]*)"|([^\s",]+))[ \t]*(?:,|$)')


class ETag(NamedTuple):
    opaque: str  # the tag without quotes or W/
    weak: bool

    @classmethod
    def parse(cls, value: str) -> ETag | None:
        tags = parse_etag_list(value)
        if isinstance(tags, tuple) and len(tags) == 1:
            return tags[0]
        return None

    def to_header(self) -> str:
        return f'W/"{self.opaque}"' if self.weak else f'"{self.opaque}"'


ANY = "*"

# A list longer than this is malformed, and so ignored by If-None-Match and failed by
# If-Match, as any malformed list is: it holds over a hundred of our 34-character tags,
# far more than a client or CDN revalidating one link sends, and refusing it at once
# keeps a header of megabytes from being scanned (or remembered) at all.
MAX_ETAG_LIST_CHARS = 4096
# Only values this short are memoised: one or two tags, what revalidations repeat.
# Parsed, a value can be many times its own size (a tuple per tag), so this bounds
# the memo's worst case to ETAG_MEMO_ENTRIES x (64 tags): measured, about 20 MB.
MEMOISED_ETAG_LIST_CHARS = 128
ETAG_MEMO_ENTRIES = 4096


def parse_etag_list(value: str) -> tuple[ETag, ...] | str | None:
    """The tags of an If-Match / If-None-Match value, ``ANY`` for ``*``, or None if malformed.

    Entity tags may contain commas, so the list is read tag by tag, not split.
    Memoised for short values only: revalidating clients send the same few values
    again and again, and a client inventing long ones must not fill memory.
    """
    if len(value) > MAX_ETAG_LIST_CHARS:
        return None  # refused before any work, and never remembered
    if len(value) <= MEMOISED_ETAG_LIST_CHARS:
        return _memoised_parse_etag_list(value)
    return _parse_etag_list(value)


def _parse_etag_list(value: str) -> tuple[ETag, ...] | str | None:
    value = value.strip()
    if value == ANY:
        return ANY
    tags: list[ETag] = []
    position = 0
    while position < len(value):
        match = _ETAG_ITEM.match(value, position)
        if match is None or match.end() == position:
            return None
        weak, quoted, bare = match.groups()
        tags.append(ETag(quoted if quoted is not None else bare, weak is not None))
        position = match.end()
    return tuple(tags) or None


_memoised_parse_etag_list = lru_cache(maxsize=ETAG_MEMO_ENTRIES)(_parse_etag_list)


def strong_match(tags: tuple[ETag, ...], current: ETag | None) -> bool:
    """Strong comparison: both tags strong and equal (If-Match, If-Range)."""
    if current is None or current.weak:
        return False
    return any(not tag.weak and tag.opaque == current.opaque for tag in tags)


def weak_match(tags: tuple[ETag, ...], current: ETag | None) -> bool:
    """Weak comparison: opaque tags equal, W/ ignored on both sides (If-None-Match)."""
    if current is not None:
        for tag in tags:  # a loop, not any(): this runs for every revalidation
            if tag.opaque == current.opaque:
                return True
    return False
