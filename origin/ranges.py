"""The Range request header (RFC 9110 section 14), resolved against a length.

Decisions, documented in the README:
* A header that does not parse, or names a unit other than bytes, is ignored
  (the full 200 is sent), as the RFC allows; it is never a 400.
* Several ranges are merged where they overlap or touch. If one range results,
  it is served as a 206; if several disjoint ranges remain, the Range header is
  ignored and the full 200 is sent (as S3, GCS and R2 do), so no
  multipart/byteranges body is ever produced.
* More than ``MAX_RANGES`` ranges are ignored outright: overlapping range
  lists are a known denial of service (CVE-2011-3192, CVE-2025-62727).
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_RANGES = 100

_RANGE_SPEC = re.compile(r"[ \t]*(?:([0-9]+)-([0-9]*)|-([0-9]+))[ \t]*")


class ByteRange(NamedTuple):
    """A satisfiable range: ``start`` inclusive, ``stop`` exclusive."""

    start: int
    stop: int

    def content_range(self, length: int) -> str:
        return f"bytes {self.start}-{self.stop - 1}/{length}"

    @property
    def size(self) -> int:
        return self.stop - self.start


class Unsatisfiable(NamedTuple):
    length: int

    def content_range(self) -> str:
        return f"bytes */{self.length}"


def parse_range(header: str, length: int) -> ByteRange | Unsatisfiable | None:
    """What to send for ``Range: header`` on a representation of ``length`` bytes.

    None means "ignore the header and send the whole representation".
    """
    unit, equals, spec_list = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    specs = spec_list.split(",")
    if len(specs) > MAX_RANGES:
        return None
    satisfiable: list[ByteRange] = []
    seen_any = False
    for spec in specs:
        if not spec.strip():
            continue  # the list rule allows empty elements
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None:
            return None
        seen_any = True
        first, last, suffix = match.groups()
        if suffix is not None:
            suffix_length = int(suffix)
            if suffix_length > 0 and length > 0:
                satisfiable.append(ByteRange(max(length - suffix_length, 0), length))
            elif suffix_length > 0:
                # A suffix range on an empty representation is satisfiable, yet
                # has no bytes to send: the whole (empty) 200 answers it.
                return None
            continue
        start = int(first)
        stop = int(last) + 1 if last else length
        if last and stop <= start:
            return None  # an inverted range makes the whole header invalid
        if start < length:
            satisfiable.append(ByteRange(start, min(stop, length)))
    if not seen_any:
        return None
    if not satisfiable:
        return Unsatisfiable(length)
    merged = _merge(satisfiable)
    return merged[0] if len(merged) == 1 else None


def _merge(ranges: list[ByteRange]) -> list[ByteRange]:
    merged: list[ByteRange] = []
    for current in sorted(ranges):
        if merged and current.start <= merged[-1].stop:
            merged[-1] = ByteRange(merged[-1].start, max(merged[-1].stop, current.stop))
        else:
            merged.append(current)
    return merged
