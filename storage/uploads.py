"""Folders a process works in and that nothing outlives: ``WorkArea``. Each
process writes in a folder of its own and holds a lock on it while it lives; at
start-up, folders whose lock nobody holds belong to a process that died
mid-work, and are removed. No scan of the storage is needed.

Uploads are written in ``<root>/.media-origin/uploads/`` (``UploadArea``), a
dot-folder (never served) on the storage's own filesystem, so that a finished
upload becomes visible by one atomic rename; conversions work in one under the
system's temporary folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import tempfile
from pathlib import Path

UPLOADS = Path(".media-origin") / "uploads"


class WorkArea:
    def __init__(self, base: str | os.PathLike[str]) -> None:
        self.base = Path(base)
        self._lock: int | None = None
        self._folder: Path | None = None

    @property
    def folder(self) -> Path:
        """This process's folder, made (and older orphans removed) on first use."""
        if self._folder is None:
            self.base.mkdir(parents=True, exist_ok=True)
            self.remove_orphans()
            name = f"{os.getpid()}-{secrets.token_hex(4)}"
            # The lock first: a folder is never without a held lock beside it.
            lock = os.open(self.base / f"{name}.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC)
            fcntl.flock(lock, fcntl.LOCK_EX)
            folder = self.base / name
            folder.mkdir()
            self._lock, self._folder = lock, folder
        return self._folder

    def close(self) -> None:
        """A clean shutdown: this process's folder and lock go (what an upload still in
        it had written is abandoned, as it would be after a crash)."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            with contextlib.suppress(OSError):
                self._folder.with_suffix(".lock").unlink()
            if self._lock is not None:
                os.close(self._lock)
            self._folder = self._lock = None

    def new_path(self) -> Path:
        return self.folder / f"{secrets.token_hex(8)}.part"

    def new_folder(self) -> Path:
        """A folder of its own for one piece of work; the caller removes it."""
        return Path(tempfile.mkdtemp(dir=self.folder))

    def remove_orphans(self) -> int:
        """Remove the folders of processes that are gone; how many were removed."""
        removed = 0
        if not self.base.is_dir():
            return removed
        for lock_path in self.base.glob("*.lock"):
            with contextlib.suppress(OSError):
                lock = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live process holds it
                finally:
                    os.close(lock)
                shutil.rmtree(lock_path.with_suffix(""), ignore_errors=True)
                lock_path.unlink(missing_ok=True)
                removed += 1
        for folder in self.base.iterdir():  # a folder whose lock file never got made
            if folder.is_dir() and not folder.with_suffix(".lock").exists():
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


class UploadArea(WorkArea):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        super().__init__(Path(root) / UPLOADS)
