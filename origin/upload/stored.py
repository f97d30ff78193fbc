"""``check``'s report on the bytes stored at a path now, whatever the backend:
copied out once (pinned to the version opened), then inspected like any file.
The CLI's WhatsApp commands and the console's verdict badges ask it."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from origin.serve.paths import storage_path
from origin.whatsapp.inspection import inspect_file
from origin.whatsapp.problems import Report, base_name
from storage.base import FileStat, Storage
from storage.copying import copy_to_file


@dataclass(frozen=True, slots=True)
class StoredReport:
    stat: FileStat  # the version the report is of
    report: Report


async def stored_report(storage: Storage, url_path: str) -> StoredReport | None:
    """The report on the version at ``url_path`` now; None when nothing is there."""
    path = storage_path(url_path)
    if path is None:
        return None
    with tempfile.TemporaryDirectory(prefix="media-origin-check-") as folder:
        local = Path(folder) / (base_name(url_path) or "file")
        stat = await copy_to_file(storage, path, local)
        if stat is None:
            return None
        return StoredReport(stat, await asyncio.to_thread(inspect_file, local, url_path))
