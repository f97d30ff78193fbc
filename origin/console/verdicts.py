"""``check``'s verdict on each file a page shows, kept by (path, version): a
file's bytes are read once per version, not once per page view. A page waits
at most ``budget`` seconds for the verdicts it lacks; the checks that take
longer (a long video) go on, and the next view shows them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable

from origin.upload.stored import stored_report
from origin.whatsapp.problems import Report
from storage.base import Storage, StorageUnavailable
from storage.bounded import remember

logger = logging.getLogger("media_origin")

MAX_KEPT = 50_000
CHECKS_AT_ONCE = 4  # a page's checks share the machine with serving


class Verdicts:
    def __init__(self, storage: Storage, budget: float = 0.5) -> None:
        self.storage = storage
        self.budget = budget
        self._kept: dict[tuple[str, Hashable], Report] = {}
        self._running: dict[str, asyncio.Task] = {}
        self._slots = asyncio.Semaphore(CHECKS_AT_ONCE)

    def known(self, url_path: str, version: Hashable) -> Report | None:
        return self._kept.get((url_path, version))

    async def of_page(self, files: list[tuple[str, Hashable]]) -> dict[str, Report]:
        """The reports on these (url path, version)s known within the budget."""
        missing = [path for path, version in files if self.known(path, version) is None]
        tasks = [self._check(path) for path in missing]
        if tasks:
            await asyncio.wait(tasks, timeout=self.budget)
        found = {path: self.known(path, version) for path, version in files}
        return {path: report for path, report in found.items() if report is not None}

    async def of(self, url_path: str, version: Hashable) -> Report | None:
        """One file's report (its own page waits for it, however long)."""
        if self.known(url_path, version) is None:
            await asyncio.wait([self._check(url_path)])
        return self.known(url_path, version)

    def _check(self, url_path: str) -> asyncio.Task:
        """One check per path at a time; a page that asks again joins it."""
        task = self._running.get(url_path)
        if task is None:
            task = asyncio.ensure_future(self._run(url_path))
            self._running[url_path] = task
            task.add_done_callback(lambda _: self._running.pop(url_path, None))
        return task

    async def _run(self, url_path: str) -> None:
        async with self._slots:
            try:
                stored = await stored_report(self.storage, url_path)
            except StorageUnavailable:
                return  # the page says "not checked"; the next view asks again
            except Exception:  # a bug in a check: logged, the page goes on without it
                logger.exception("console: checking %s failed", url_path)
                return
        if stored is not None:
            key = (url_path, stored.stat.version)
            remember(self._kept, key, stored.report, MAX_KEPT)
