"""Bodies of small files, kept in memory by file version.

A small file asked for again (a campaign image Meta fetches for every
personalised send) then costs a stat and a send: no open, read or close. The
bytes are those of the exact version the headers describe, so a file replaced
on disk is never served from here (its version differs). The budget bounds
memory whatever the storage holds.
"""

from __future__ import annotations

from collections.abc import Hashable

SMALL_FILE_BYTES = 64 * 1024
BUDGET_BYTES = 32 * 1024 * 1024


class BodyCache:
    def __init__(self, max_file: int = SMALL_FILE_BYTES, budget: int = BUDGET_BYTES) -> None:
        self.max_file = max_file
        self.budget = budget
        self._bodies: dict[Hashable, bytes] = {}
        self._size = 0

    def get(self, version: Hashable) -> bytes | None:
        return self._bodies.get(version)

    def put(self, version: Hashable, body: bytes) -> None:
        if len(body) > self.max_file or version in self._bodies:
            return
        while self._bodies and self._size + len(body) > self.budget:
            oldest = next(iter(self._bodies))  # first in, first out
            self._size -= len(self._bodies.pop(oldest))
        self._bodies[version] = body
        self._size += len(body)

    @property
    def size(self) -> int:
        return self._size
