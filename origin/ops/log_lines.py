"""Writing access-log lines cheaply: JSON strings quoted by hand when they can
be, the time formatted once a second, and lines written in batches."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime
from typing import TextIO

_SAFE = re.compile(r'[^"\\\x00-\x1f\x7f-\uffff]*')


class _Clock:
    """The current second, formatted once a second (strftime costs more than a request)."""

    second = 0
    text = ""


def json_string(value: str | None) -> str:
    """A JSON string: plain ASCII without quotes or backslashes is quoted as it is."""
    if value is None:
        return "null"
    if _SAFE.fullmatch(value):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def now_text() -> str:
    """ISO 8601 UTC with milliseconds; the seconds part is formatted once a second."""
    now = time.time()
    second = int(now)
    if _Clock.second != second:
        _Clock.text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _Clock.second = second
    return f"{_Clock.text}.{int((now - second) * 1000):03d}+00:00"


# 1 MiB: 256 ordinary lines are about 100 KB, so this flushes only for a run of
# oversized ones.
PENDING_CHARS = 1 << 20


class LineBatcher:
    """Log lines written in batches: one write per 256 lines, or half a second
    after the first waiting line, whichever comes first. A write per request
    costs more than the request when stdout is a pipe to a supervisor. Also at
    PENDING_CHARS waiting: lines carry request-controlled values (paths, user
    agents: megabytes under some servers), and 256 of those must not wait in memory."""

    def __init__(self, stream: TextIO, lines: int = 256, delay: float = 0.5) -> None:
        self.stream, self.lines, self.delay = stream, lines, delay
        self.pending: list[str] = []
        self.pending_chars = 0
        self.timer: asyncio.TimerHandle | None = None

    def write(self, line: str) -> None:
        self.pending.append(line)
        self.pending_chars += len(line)
        if len(self.pending) >= self.lines or self.pending_chars >= PENDING_CHARS:
            self.flush()
        elif self.timer is None:
            try:
                self.timer = asyncio.get_running_loop().call_later(self.delay, self.flush)
            except RuntimeError:  # no loop: write at once
                self.flush()

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.pending:
            self.stream.write("".join(self.pending))
            self.stream.flush()
            self.pending.clear()
        self.pending_chars = 0
