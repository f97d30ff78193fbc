"""Content hashes that outlive the process: a small SQLite table keyed by the
full file version, so a restart (or a second worker) serves known files
without reading them again.

The key is the whole version (device, inode, size, mtime_ns, ctime_ns), the
same proof of "same bytes" the in-memory cache uses; a file changed in any
way, even with its mtime put back, gets a new key and is hashed again. The
index is a cache, never the truth: if it cannot be opened or written, hashing
simply happens in memory as before.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Hashable
from pathlib import Path

logger = logging.getLogger("media_origin")

INDEX_DIR = ".media-origin"  # a dot-folder: never served
INDEX_NAME = "hashes.sqlite3"


class HashIndex:
    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = _open(path)

    @classmethod
    def for_root(cls, root: str) -> HashIndex:
        """``<root>/.media-origin/``, or the user's cache folder if the root is read-only."""
        candidates = [Path(root) / INDEX_DIR / INDEX_NAME]
        cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        candidates.append(cache_home / "media-origin" / f"{_slug(root)}.sqlite3")
        for candidate in candidates:
            index = cls(candidate)
            if index._db is not None:
                return index
        logger.warning("no writable place for the hash index: hashes are kept in memory only")
        return cls(None)

    def get(self, version: Hashable) -> str | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT digest FROM hashes WHERE version = ?", (_key(version),)
            ).fetchone()
        return row[0] if row else None

    def put(self, version: Hashable, digest: str) -> None:
        if self._db is None:
            return
        try:
            with self._lock, self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO hashes (version, digest) VALUES (?, ?)",
                    (_key(version), digest),
                )
        except sqlite3.Error as error:
            logger.warning("hash index write failed (%s); continuing without it", error)


def _open(path: Path) -> sqlite3.Connection | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, timeout=5, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS hashes (version TEXT PRIMARY KEY, digest TEXT NOT NULL)"
        )
        db.isolation_level = ""  # transactions again, for the ``with db`` in put()
        return db
    except (OSError, sqlite3.Error):
        return None


def _key(version: Hashable) -> str:
    return repr(version)


def _slug(root: str) -> str:
    return root.strip("/").replace("/", "_") or "root"
