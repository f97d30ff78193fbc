"""The failure report as plain values: each failed status joined to what
media-origin knows about it — the file the message carried (from the messages
it sent itself), that file's ``check`` verdict now, and Meta's fetches of it in
the access log in the ten minutes before the status — then grouped by cause,
with the advice for each. No I/O: ``media-origin whatsapp failures`` reads the
records, the files and the log, and hands them here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from origin.cloudapi.media_ids import iso_utc
from origin.cloudapi.webhooks import ADVICE, CAUSES, Status, cause_of, first_error, said

FETCH_WINDOW = 600  # seconds before a status in which Meta's fetches are joined to it
META_FETCH = '"meta_fetch": true'  # how the JSON access log writes it: a cheap filter first


@dataclass(frozen=True, slots=True)
class Fetch:
    """One of Meta's requests for a file, as the access log recorded it."""

    time: str  # as logged (ISO 8601)
    at: float  # the same, in unix seconds
    path: str
    status: int
    bytes: int
    user_agent: str

    def to_json(self) -> dict[str, object]:
        return {
            "time": self.time,
            "status": self.status,
            "bytes": self.bytes,
            "user_agent": self.user_agent,
        }


@dataclass(frozen=True, slots=True)
class Failure:
    wamid: str
    status: str
    timestamp: int  # the status's own, unix seconds
    code: int | None
    details: str
    cause: str
    path: str | None  # the file the message carried, when media-origin sent it
    verdict: str | None  # that file's ``check`` verdict now; None when it is gone
    fetches: tuple[Fetch, ...]

    @property
    def advice(self) -> str:
        return ADVICE[self.cause]

    def to_json(self) -> dict[str, object]:
        return {
            "wamid": self.wamid,
            "status": self.status,
            "timestamp": iso_utc(self.timestamp),
            "code": self.code,
            "details": self.details,
            "cause": self.cause,
            "advice": self.advice,
            "path": self.path,
            "verdict": self.verdict,
            "fetches": [fetch.to_json() for fetch in self.fetches],
        }


def failed_since(statuses: Iterable[Status], since: float, now: float) -> list[Status]:
    """The failed statuses stamped in the last ``since`` seconds, oldest first."""
    return sorted(
        (s for s in statuses if s.status == "failed" and s.timestamp >= now - since),
        key=lambda status: status.timestamp,
    )


def fetch_from_line(line: str) -> Fetch | None:
    """Meta's fetch in one JSON access-log line; None for any other line (a
    plain-format line, a browser's request, a line cut short)."""
    if META_FETCH not in line:
        return None
    try:
        entry = json.loads(line)
        moment = datetime.fromisoformat(str(entry["time"])).timestamp()
        return Fetch(
            str(entry["time"]),
            moment,
            str(entry["path"]),
            int(entry["status"]),
            int(entry.get("bytes") or 0),
            str(entry.get("user_agent") or ""),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def fetches_before(fetches: Iterable[Fetch], path: str, timestamp: int) -> tuple[Fetch, ...]:
    """Meta's fetches of ``path`` in the FETCH_WINDOW before ``timestamp``. A
    status is stamped in whole seconds, a logged fetch to the millisecond: one
    in the status's own second came before it."""
    earliest = timestamp - FETCH_WINDOW
    found = (f for f in fetches if f.path == path and earliest <= f.at < timestamp + 1)
    return tuple(sorted(found, key=lambda fetch: fetch.at))


def joined(
    status: Status, path: str | None, verdict: str | None, fetches: tuple[Fetch, ...]
) -> Failure:
    error = first_error(status)
    return Failure(
        status.wamid,
        status.status,
        status.timestamp,
        error.code if error is not None else None,
        said(error) if error is not None else "",
        cause_of(status) or "unknown",
        path,
        verdict,
        fetches,
    )


def by_cause(failures: Iterable[Failure]) -> dict[str, list[Failure]]:
    """Grouped in CAUSES order (Meta's limit first: the most common since 2026)."""
    groups: dict[str, list[Failure]] = {cause: [] for cause in CAUSES}
    for failure in failures:
        groups[failure.cause].append(failure)
    return {cause: found for cause, found in groups.items() if found}


def format_failures(failures: list[Failure], since: str, log_read: bool) -> str:
    """The text report: a block per cause, its advice, then each failure."""
    if not failures:
        return f"no failed messages in the last {since}\n"
    lines = []
    for cause, found in by_cause(failures).items():
        lines.append(f"{cause} ({len(found)})")
        lines.append(f"  advice: {ADVICE[cause]}")
        for failure in found:
            code = f"code {failure.code}" if failure.code is not None else "no code"
            lines.append(f"  {iso_utc(failure.timestamp)}  {failure.wamid}  {code}")
            if failure.details:
                lines.append(f"    details: {failure.details}")
            lines.append(f"    {_about_the_file(failure, log_read)}")
    total = "1 failed message" if len(failures) == 1 else f"{len(failures)} failed messages"
    lines.append(f"{total} in the last {since}")
    return "\n".join(lines) + "\n"


def _about_the_file(failure: Failure, log_read: bool) -> str:
    if failure.path is None:
        return "file: unknown (not sent by media-origin whatsapp message --send)"
    verdict = failure.verdict or "gone (no longer stored)"
    said = f"file: {failure.path} (check: {verdict})"
    if not log_read:
        return said + "; Meta's fetches not read (give --access-log FILE)"
    if not failure.fetches:
        return said + "; Meta did not fetch it in the 10 minutes before"
    statuses = ", ".join(str(fetch.status) for fetch in failure.fetches)
    count = "once" if len(failure.fetches) == 1 else f"{len(failure.fetches)} times"
    return said + f"; Meta fetched it {count} in the 10 minutes before: {statuses}"
