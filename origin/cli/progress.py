"""Progress on a terminal's stderr for commands worth watching: redrawn at most
ten times a second, never written when stderr is not a terminal (a pipe or a
log gets the results only)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


class Progress:
    """``advance(amount)`` counts up to ``total``; ``describe(done, total)`` says
    where it stands in one line; ``clear()`` leaves the line empty for results."""

    def __init__(
        self, total: int, describe: Callable[[int, int], str], worth_showing: bool = True
    ) -> None:
        self.total, self.done, self.shown = total, 0, 0.0
        self.describe = describe
        self.enabled = worth_showing and sys.stderr.isatty()
        self.width = 0

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        now = time.monotonic()
        if self.enabled and now - self.shown > 0.1:
            self.shown = now
            line = self.describe(self.done, self.total)
            self.width = max(self.width, len(line))
            sys.stderr.write(f"\r{line}")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * self.width + "\r")


def files_checked(done: int, total: int) -> str:
    return f"checked {done}/{total}"


def bytes_sent(done: int, total: int) -> str:
    share = done / total if total else 1.0
    return f"[{'#' * int(share * 30):<30}] {share:4.0%} of {total / 1e6:.1f} MB"
