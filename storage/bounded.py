"""Per-process tables that must not grow without end (versions, paths, addresses)."""

from __future__ import annotations

from collections.abc import Hashable


def remember(table: dict, key: Hashable, value: object, limit: int) -> None:
    """Insert, forgetting the oldest entry first when ``limit`` is reached (FIFO)."""
    if len(table) >= limit and key not in table:
        del table[next(iter(table))]
    table[key] = value
