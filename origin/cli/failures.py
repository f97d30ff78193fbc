"""``media-origin whatsapp failures``: the failed statuses the webhook kept,
each joined to the file its message carried, that file's ``check`` verdict now
and Meta's fetches of it in the access log; the joining itself is pure
(``origin.cloudapi.failures``), this reads what it joins.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TextIO

from origin.app import make_storage
from origin.cli.errors import CommandError
from origin.cloudapi.failures import (
    Failure,
    Fetch,
    failed_since,
    fetch_from_line,
    fetches_before,
    format_failures,
    joined,
)
from origin.cloudapi.statuses import kept, sent
from origin.config import Config
from origin.upload.stored import stored_report


def run_failures(
    config: Config,
    since: int,
    since_text: str,
    access_log: Path | None,
    as_json: bool,
    out: TextIO,
    now: float,
) -> int:
    fetches = meta_fetches(access_log) if access_log is not None else []
    failures = asyncio.run(_gather(config, since, fetches, now))
    if as_json:
        json.dump([failure.to_json() for failure in failures], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(format_failures(failures, since_text, access_log is not None))
    return 0


def meta_fetches(log: Path) -> list[Fetch]:
    """Meta's fetches in a JSON access log (other lines are passed over)."""
    try:
        with log.open(encoding="utf-8", errors="replace") as lines:
            return [fetch for line in lines if (fetch := fetch_from_line(line)) is not None]
    except OSError as error:
        raise CommandError(f"--access-log {log}: {error.strerror or error}") from None


async def _gather(config: Config, since: int, fetches: list[Fetch], now: float) -> list[Failure]:
    storage = make_storage(config, diagnostic=True)
    try:
        failures = []
        verdicts: dict[str, str | None] = {}
        for status in failed_since(await kept(storage.records, now - since, now), since, now):
            message = await sent(storage.records, status.wamid)
            path = message.get("path") if message is not None else None
            if not isinstance(path, str):
                failures.append(joined(status, None, None, ()))
                continue
            if path not in verdicts:
                stored = await stored_report(storage, path)
                verdicts[path] = stored.report.verdict if stored is not None else None
            found = fetches_before(fetches, path, status.timestamp)
            failures.append(joined(status, path, verdicts[path], found))
        return failures
    finally:
        storage.close()
