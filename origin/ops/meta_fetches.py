"""Meta's fetches of each path, as this process saw them: how many, and the last
one's time and status, for the console's activity panel. Counted only for a
request that looks like Meta's fetcher (its user agent or network), so serving
anyone else costs nothing more; bounded in the paths it remembers."""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.bounded import remember

MAX_PATHS = 100_000


@dataclass(slots=True)
class PathFetches:
    count: int
    last: float  # unix seconds
    last_status: int


class MetaFetches:
    def __init__(self) -> None:
        self._by_path: dict[str, PathFetches] = {}
        self.since = time.time()

    def saw(self, path: str, status: int) -> None:
        known = self._by_path.get(path)
        if known is None:
            remember(self._by_path, path, PathFetches(1, time.time(), status), MAX_PATHS)
        else:
            known.count += 1
            known.last, known.last_status = time.time(), status

    def of(self, path: str) -> PathFetches | None:
        return self._by_path.get(path)


META_FETCHES = MetaFetches()  # one per process, whatever the reloads
