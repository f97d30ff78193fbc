"""The per-instance cache of representations, and its invalidation rule: an entry
is used only while the storage reports the same file version it was built for."""

from __future__ import annotations

import time

from origin.policy import PolicyTable
from origin.serve.representation import Representation, build_representation
from storage.base import FileStat, OpenFile, Storage
from storage.bounded import remember

MAX_ENTRIES = 100_000


class StorageBusy(Exception):
    """The file kept changing while we tried to describe it: rewritten in place
    even after a descriptor pinned its version."""


class Representations:
    def __init__(self, storage: Storage, policies: PolicyTable) -> None:
        self.storage = storage
        self.policies = policies
        self._entries: dict[str, Representation] = {}
        self._versioned: dict[tuple[str, object], Representation] = {}

    async def get(self, url_path: str, path: str) -> Representation | None:
        """The current representation of ``path``, or None if there is no such file.

        Raises FileChanged when the file changed while it was being described;
        the caller then serves the version it pins with ``for_open``.
        """
        stat = await self.storage.stat(path)
        if stat is None:
            self._entries.pop(url_path, None)
            return None
        cached = self._entries.get(url_path)
        if cached is not None and cached.stat.version == stat.version:
            return cached
        return await self._build(url_path, path, stat)

    async def for_open(self, url_path: str, path: str, opened: OpenFile) -> Representation:
        """The representation of the version ``opened`` holds (hashed from it if need be)."""
        cached = self._entries.get(url_path)
        if cached is not None and cached.stat.version == opened.stat.version:
            return cached
        return await self._build(url_path, path, opened.stat, opened)

    async def _build(
        self, url_path: str, path: str, stat: FileStat, opened: OpenFile | None = None
    ) -> Representation:
        policy = self.policies.for_path(url_path)
        digest = None
        if policy.needs_content_hash():
            digest = await self.storage.content_hash(path, stat, opened)
        representation = build_representation(url_path, stat, policy, digest, time.time())
        if representation.cacheable:
            remember(self._entries, url_path, representation, MAX_ENTRIES)
        return representation

    def publish(self, url_path: str, stat: FileStat, digest: str | None) -> Representation:
        """The representation of a version just written, from its writer's own stat and
        digest (never from a fresh stat, which may already see a concurrent upload's
        file). Kept like any other: it is used only while the path is that version."""
        policy = self.policies.for_path(url_path)
        representation = build_representation(
            url_path, stat, policy, digest if policy.needs_content_hash() else None, time.time()
        )
        if representation.cacheable:
            remember(self._entries, url_path, representation, MAX_ENTRIES)
        return representation

    def versioned(self, url_path: str, current: Representation) -> Representation:
        """The representation of a ``?v=`` link whose hash matches ``current``'s bytes."""
        key = (url_path, current.stat.version)
        found = self._versioned.get(key)
        if found is None:
            policy = current.policy.for_versioned_link()
            found = build_representation(url_path, current.stat, policy, current.content_hash)
            remember(self._versioned, key, found, MAX_ENTRIES)
        return found

    def reset(self, policies: PolicyTable) -> None:
        """New policies: every representation is built again, lazily."""
        self.policies = policies
        self._entries.clear()
        self._versioned.clear()

    def forget(self, url_path: str) -> None:
        self._entries.pop(url_path, None)
