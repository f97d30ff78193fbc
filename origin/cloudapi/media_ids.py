"""Media IDs as records: which ID the provider gave for which bytes, for which
number, and when. An ID belongs to one number and lives 30 days at the provider,
so a record is keyed by (content hash, provider, number) and read against the
clock: valid, due for renewal (within ``renew_days`` of its expiry) or expired.

Pure: the clock is a parameter (``now``, unix seconds), so renewal is tested
by moving it rather than by waiting.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

LIFETIME = 30 * 86400  # seconds an uploaded ID persists at the provider
IDS = "whatsapp/ids"  # the records' folder in the storage's reserved area
SAFETY = 3600  # an ID this close to its expiry is not handed out: a send takes time


@dataclass(frozen=True, slots=True)
class MediaId:
    media_id: str
    content_hash: str  # the storage's hash of the bytes uploaded (what ?v= is cut from)
    provider: str
    number: str  # the phone_number_id it belongs to
    uploaded_at: float  # unix seconds
    # The stored paths whose bytes these are: the ID is deleted at the provider
    # only with the last of them, and ``whatsapp renew`` reads the bytes from one.
    paths: tuple[str, ...] = ()

    @property
    def expires_at(self) -> float:
        return self.uploaded_at + LIFETIME

    def valid(self, now: float) -> bool:
        return now < self.expires_at - SAFETY

    def due(self, now: float, renew_days: int) -> bool:
        """Time to upload again: within ``renew_days`` of the expiry, or past it."""
        return now >= self.expires_at - renew_days * 86400


def record_name(provider: str, number: str, digest: str) -> str:
    """The record's name under the storage's reserved area: one per key."""
    return f"{IDS}/{provider}/{number}/{digest}.json"


def to_record(media_id: MediaId) -> bytes:
    return json.dumps(asdict(media_id), sort_keys=True).encode()


def from_record(data: bytes) -> MediaId | None:
    """A record read back; None when it is not one (torn, or from elsewhere)."""
    try:
        fields = json.loads(data)
        record = MediaId(**{**fields, "paths": tuple(fields.get("paths", ()))})
    except (ValueError, TypeError, AttributeError):
        return None
    if not isinstance(record.media_id, str) or not isinstance(record.uploaded_at, int | float):
        return None
    if not all(isinstance(path, str) for path in record.paths):
        return None
    return record


def with_path(record: MediaId, path: str) -> MediaId:
    return replace(record, paths=tuple(sorted({*record.paths, path})))


def without_path(record: MediaId, path: str) -> MediaId:
    return replace(record, paths=tuple(p for p in record.paths if p != path))


def to_renew(record: MediaId, now: float, older_than_days: float | None, renew_days: int) -> bool:
    """``whatsapp renew``'s choice: uploaded at least ``older_than_days`` ago (0:
    every ID), or, without it, the IDs due as the server would renew them."""
    if older_than_days is None:
        return record.due(now, renew_days)
    return now - record.uploaded_at >= older_than_days * 86400


def iso_utc(moment: float) -> str:
    """ISO 8601 in UTC, to the second: ``2026-12-03T08:00:00Z``."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
