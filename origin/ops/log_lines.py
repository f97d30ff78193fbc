"""Writing access-log lines cheaply: JSON strings quoted by hand when they can
be, the time formatted once a second, and lines written in batches."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
from datetime import UTC, datetime
from typing import TextIO

_SAFE = re.compile(r'[^"\\\x00-\x1f\x7f-\uffff]*')


class Clock:
    """The JSON line's opening, ``{"time": "…", ``, made again only when the
    millisecond has changed: formatting a time costs more than a request, and
    under load many lines share a millisecond."""

    millisecond = 0
    opening = ""
    second = 0
    stamp = ""  # the second's text, made once a second

    @classmethod
    def refresh(cls, millisecond: int) -> str:
        second, part = divmod(millisecond, 1000)
        if second != cls.second:
            cls.stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            cls.second = second
        cls.opening = f'{{"time": "{cls.stamp}.{part:03d}+00:00", '
        cls.millisecond = millisecond
        return cls.opening


# Durations are written as milliseconds with three decimals ("0.123"): the text
# of each whole number of microseconds up to this is made once and remembered.
REMEMBERED_MICROSECONDS = 10_000  # 10 ms: most answers; about 1.4 MB
MILLISECONDS: dict[int, str] = {}


def milliseconds(nanoseconds: int) -> str:
    """``nanoseconds`` as milliseconds with three decimals, from a table when it can."""
    microseconds = nanoseconds // 1000
    text = MILLISECONDS.get(microseconds)
    if text is None:
        text = f"{microseconds / 1000:.3f}"
        if microseconds < REMEMBERED_MICROSECONDS:
            MILLISECONDS[microseconds] = text
    return text


def json_string(value: str | None) -> str:
    """A JSON string: plain ASCII without quotes or backslashes is quoted as it is."""
    if value is None:
        return "null"
    if _SAFE.fullmatch(value):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def line_pieces(
    json_format: bool,
    method: str,
    path: str,
    query: str,
    status: int,
    client: str | None,
    user_agent: str,
    byte_range: str | None,
    folder: str,
    meta: bool,
) -> tuple[str, str, str, str]:
    """The fixed pieces of one kind of request's line: ``head``, ``between``,
    ``tail`` and ``close``, around the bytes sent, the duration and the request id
    (a JSON line's time goes before ``head``)."""
    if json_format:
        return (
            f'"client": {json_string(client)}, "method": {json_string(method)}, '
            f'"path": {json_string(path)}, "query": {json_string(query)}, '
            f'"status": {status}, "bytes": ',
            ', "duration_ms": ',
            f', "range": {json_string(byte_range)}, '
            f'"not_modified": {"true" if status == 304 else "false"}, '
            f'"user_agent": {json_string(user_agent)}, "folder": {json_string(folder)}, '
            '"request_id": "',
            f'", "meta_fetch": {"true" if meta else "false"}}}\n',
        )
    target = f"{path}?{query}" if query else path
    return (
        f'{client} "{method} {target}" {status} ',
        " ",
        f'ms "{user_agent}" {folder} ',
        f"{' meta' if meta else ''}\n",
    )


# 1 MiB: 512 ordinary lines are about 200 KB, so this flushes only for a run of
# oversized ones.
PENDING_CHARS = 1 << 20


class LineBatcher:
    """Log lines written in batches: one write per 512 lines, or half a second
    after the first waiting line, whichever comes first, and at shutdown. A write
    per request costs more than the request when stdout is a pipe to a supervisor.
    Also at PENDING_CHARS waiting: lines carry request-controlled values (paths,
    user agents: megabytes under some servers), and 512 of those must not wait in
    memory.

    A stream with a file descriptor (stdout as a server runs) is written with
    ``os.write`` on it, past the text layer's own buffer and its flush; one
    without (a test's captured stdout) with its ``write``. A log that cannot be
    written (stdout closed by its reader) drops its lines: the log never stops
    the serving."""

    def __init__(self, stream: TextIO, lines: int = 512, delay: float = 0.5) -> None:
        self.stream, self.lines, self.delay = stream, lines, delay
        self.pending: list[str] = []
        self.pending_chars = 0
        self.timer: asyncio.TimerHandle | None = None
        self.descriptor = _descriptor(stream)
        self.dropped = 0  # lines that could not be written

    def write(self, line: str) -> None:
        pending = self.pending
        pending.append(line)
        self.pending_chars += len(line)
        if len(pending) >= self.lines or self.pending_chars >= PENDING_CHARS:
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
            text = "".join(self.pending)
            count = len(self.pending)
            self.pending.clear()
            try:
                if self.descriptor is None:
                    self.stream.write(text)
                    self.stream.flush()
                else:
                    _write_all(self.descriptor, text.encode("utf-8", "backslashreplace"))
            except (OSError, ValueError):  # ValueError: a stream that cannot encode it
                self.dropped += count
        self.pending_chars = 0


def _descriptor(stream: TextIO) -> int | None:
    """The stream's file descriptor, its text buffer flushed first so that what was
    printed before keeps its place; None for a stream without one."""
    try:
        descriptor = stream.fileno()
        stream.flush()
    except (AttributeError, OSError, ValueError):
        return None
    return descriptor


def _write_all(descriptor: int, data: bytes) -> None:
    """All of ``data``: a pipe takes at most its free space per write, and a
    non-blocking one none at all while full (waited for, a second at a time)."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(descriptor, view)
        except BlockingIOError:
            select.select([], [descriptor], [], 1)
            continue
        view = view[written:]
