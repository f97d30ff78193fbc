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


@lru_cache(maxsize=4096)
def parse_etag_list(value: str) -> tuple[ETag, ...] | str | None:
    """The tags of an If-Match / If-None-Match value, ``ANY`` for ``*``, or None if malformed.

    Entity tags may contain commas, so the list is read tag by tag, not split.
    Memoised: revalidating clients send the same few values again and again.
    """
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
