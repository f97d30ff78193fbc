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
* A position of more than ``MAX_POSITION_DIGITS`` significant digits is beyond
  any representation, and is read as ``BEYOND`` without converting its digits
  (int() refuses strings of over 4,300 digits, and is quadratic below that):
  such a first-pos is unsatisfiable (a 416 when no other range is), such a
  last-pos means "to the end", such a suffix-length means "all of it", exactly
  as RFC 9110 section 14.1.2 says for any value past the length.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_RANGES = 100
# 10**18 bytes is an exabyte: no stored file comes near it, and every position
# with at most this many digits converts to an int in a few dozen nanoseconds.
MAX_POSITION_DIGITS = 18
BEYOND = 10**MAX_POSITION_DIGITS  # larger than any position of MAX_POSITION_DIGITS digits

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

    None means "ignore the header and send the whole representation". ``length``
    is a real size, below ``BEYOND``.
    """
    unit, equals, spec_list = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    specs = spec_list.split(",", MAX_RANGES)  # never a list of a million empty elements
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
            suffix_length = _position(suffix)
            if suffix_length > 0 and length > 0:
                satisfiable.append(ByteRange(max(length - suffix_length, 0), length))
            elif suffix_length > 0:
                # A suffix range on an empty representation is satisfiable, yet
                # has no bytes to send: the whole (empty) 200 answers it.
                return None
            continue
        if last and _less(last, first):
            return None  # an inverted range makes the whole header invalid
        start = _position(first)
        stop = _position(last) + 1 if last else length
        if start < length:
            satisfiable.append(ByteRange(start, min(stop, length)))
    if not seen_any:
        return None
    if not satisfiable:
        return Unsatisfiable(length)
    merged = _merge(satisfiable)
    return merged[0] if len(merged) == 1 else None


def _significant(digits: str) -> str:
    return digits.lstrip("0") or "0"


def _position(digits: str) -> int:
    """The value of ASCII ``digits``, or BEYOND if it has too many significant digits."""
    significant = _significant(digits)
    return BEYOND if len(significant) > MAX_POSITION_DIGITS else int(significant)


def _less(left: str, right: str) -> bool:
    """``int(left) < int(right)`` for ASCII digit strings of any length, without int()."""
    left, right = _significant(left), _significant(right)
    return (len(left), left) < (len(right), right)


def _merge(ranges: list[ByteRange]) -> list[ByteRange]:
    merged: list[ByteRange] = []
    for current in sorted(ranges):
        if merged and current.start <= merged[-1].stop:
            merged[-1] = ByteRange(merged[-1].start, max(merged[-1].stop, current.stop))
        else:
            merged.append(current)
    return merged
