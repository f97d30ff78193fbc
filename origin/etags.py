"""Entity tags: parsing the If-Match / If-None-Match / If-Range lists and comparing
them (RFC 9110 sections 8.8.3 and 13.1)."""

from __future__ import annotations

import re
from typing import NamedTuple

# An entity-tag, or, leniently, a bare token some clients send unquoted.
_ETAG_ITEM = re.compile(r'[ \t]*(?:(W/)?"([^"]*)"|([^\s",]+))[ \t]*(?:,|$)')


class ETag(NamedTuple):
    opaque: str  # the tag without quotes or W/
    weak: bool

    @classmethod
    def parse(cls, value: str) -> ETag | None:
        tags = parse_etag_list(value)
        if isinstance(tags, list) and len(tags) == 1:
            return tags[0]
        return None

    def to_header(self) -> str:
        return f'W/"{self.opaque}"' if self.weak else f'"{self.opaque}"'


ANY = "*"


def parse_etag_list(value: str) -> list[ETag] | str | None:
    """The tags of an If-Match / If-None-Match value, ``ANY`` for ``*``, or None if malformed.

    Entity tags may contain commas, so the list is read tag by tag, not split.
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
    return tags or None


def strong_match(tags: list[ETag], current: ETag | None) -> bool:
    """Strong comparison: both tags strong and equal (If-Match, If-Range)."""
    if current is None or current.weak:
        return False
    return any(not tag.weak and tag.opaque == current.opaque for tag in tags)


def weak_match(tags: list[ETag], current: ETag | None) -> bool:
    """Weak comparison: opaque tags equal, W/ ignored on both sides (If-None-Match)."""
    if current is None:
        return False
    return any(tag.opaque == current.opaque for tag in tags)
