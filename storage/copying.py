"""A stored file copied out to a local one, in bounded chunks: for the tools that
need a real file (ffmpeg, Pillow, an HTTP client streaming a multipart form)
whatever the backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.base import FileStat, Storage


async def copy_to_file(storage: Storage, path: str, destination: Path) -> FileStat | None:
    """The version at ``path`` now, written to ``destination``; its stat, or None
    when no file is there. The version is pinned when opened: a replace meanwhile
    changes nothing of what is copied."""
    opened = await storage.open_current(path)
    if opened is None:
        return None
    try:
        with destination.open("wb") as file:
            async for chunk in opened.chunks(0, opened.stat.size):
                await asyncio.to_thread(file.write, chunk)
    finally:
        opened.close()
    return opened.stat
