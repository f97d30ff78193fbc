"""Small records the origin keeps about its own work (conversion jobs, media IDs),
stored in the storage itself so that every instance over one store sees the
same ones: under ``<root>/.media-origin/`` on a disk, under the reserved
``.media-origin/`` prefix in a bucket. Neither is ever served: a path with a
dot-segment names no file.

A record is written whole or not at all (a rename on a disk, one PUT in a
bucket), so a reader never sees half of one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from storage.s3_calls import Missing, S3Calls
from storage.spool import write_errors

RESERVED = ".media-origin"
MAX_RECORD_BYTES = 1_000_000  # a record is a small JSON document, never a file


class Records(Protocol):
    async def read(self, name: str) -> bytes | None:
        """The record ``name`` (such as ``jobs/<id>.json``), None when there is none."""
        ...

    async def write(self, name: str, data: bytes) -> None:
        """Store the record whole, replacing one of the same name."""
        ...

    async def create(self, name: str, data: bytes) -> bool:
        """Store the record whole only if none of that name exists: True when this
        call wrote it, False when another writer (another instance) was first.
        The one way two instances agree on one value for a key."""
        ...

    async def delete(self, name: str) -> None: ...

    async def names(self, folder: str) -> list[str]:
        """Every record under ``folder`` (``whatsapp/ids``), at any depth, by name."""
        ...


def _checked(name: str) -> str:
    """A record's name is the origin's own, never a client's: refuse anything odd."""
    parts = name.split("/")
    if not name or any(not part or part.startswith(".") for part in parts) or "\\" in name:
        raise ValueError(f"not a record name: {name!r}")
    return name


def _aside_then(target: Path, data: bytes, place: Callable[[Path, Path], None]) -> None:
    """Write ``data`` beside ``target``, then ``place`` it (os.replace, or os.link
    for a name that must not exist yet): a reader never sees half a record."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    try:
        with temporary.open("wb") as file:
            file.write(data)
        place(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


class FilesystemRecords:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.base = Path(root) / RESERVED

    async def read(self, name: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self.base / _checked(name))

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            with path.open("rb") as file:
                return file.read(MAX_RECORD_BYTES)
        except FileNotFoundError:
            return None

    async def write(self, name: str, data: bytes) -> None:
        target = self.base / _checked(name)
        with write_errors(f"/{RESERVED}/{name}"):
            await asyncio.to_thread(self._write, target, data)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        _aside_then(target, data, os.replace)

    async def create(self, name: str, data: bytes) -> bool:
        target = self.base / _checked(name)
        with write_errors(f"/{RESERVED}/{name}"):
            return await asyncio.to_thread(self._create, target, data)

    @staticmethod
    def _create(target: Path, data: bytes) -> bool:
        """link(2) fails if the name exists: of two writers exactly one wins."""
        try:
            _aside_then(target, data, os.link)
        except FileExistsError:
            if not target.is_file():  # a file where a folder should be: not a lost race
                raise
            return False
        return True

    async def delete(self, name: str) -> None:
        await asyncio.to_thread((self.base / _checked(name)).unlink, missing_ok=True)

    async def names(self, folder: str) -> list[str]:
        base = self.base / _checked(folder)

        def walk() -> list[str]:
            return sorted(
                str(path.relative_to(self.base))
                for path in base.rglob("*")
                if path.is_file() and not path.name.startswith(".")
            )

        return await asyncio.to_thread(walk)


class S3Records:
    def __init__(self, calls: S3Calls) -> None:
        self.calls = calls

    def _key(self, name: str) -> str:
        return self.calls.key(f"{RESERVED}/{_checked(name)}")

    async def read(self, name: str) -> bytes | None:
        try:
            answer = await self.calls.call("get_object", Key=self._key(name))
        except Missing:
            return None
        return await asyncio.to_thread(answer["Body"].read, MAX_RECORD_BYTES)

    async def write(self, name: str, data: bytes) -> None:
        await self.calls.call(
            "put_object", Key=self._key(name), Body=data, ContentType="application/json"
        )

    async def create(self, name: str, data: bytes) -> bool:
        """A conditional PUT (If-None-Match: *): the store refuses it with 412 when
        the key exists, which S3Calls reports as Missing."""
        try:
            await self.calls.call(
                "put_object",
                Key=self._key(name),
                Body=data,
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except Missing:
            return False
        return True

    async def delete(self, name: str) -> None:
        await self.calls.call("delete_object", Key=self._key(name))

    async def names(self, folder: str) -> list[str]:
        prefix = self._key(_checked(folder)) + "/"
        start = len(self.calls.key(f"{RESERVED}/"))
        found: list[str] = []
        token: dict[str, str] = {}
        while True:
            listing = await self.calls.call("list_objects_v2", Prefix=prefix, **token)
            found += [entry["Key"][start:] for entry in listing.get("Contents", [])]
            if not listing.get("IsTruncated"):
                return sorted(found)
            token = {"ContinuationToken": listing["NextContinuationToken"]}
