"""Storage backends: where the bytes live. The origin sees only ``storage.base``."""

from storage.base import (
    FileChanged,
    FileStat,
    OpenFile,
    Storage,
    StorageConflict,
    StorageUnavailable,
    Writer,
)

__all__ = [
    "FileChanged",
    "FileStat",
    "OpenFile",
    "Storage",
    "StorageConflict",
    "StorageUnavailable",
    "Writer",
]
