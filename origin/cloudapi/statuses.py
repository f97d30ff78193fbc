"""Status webhooks received and kept: the delivery's authenticity checked, each
status stored once in the storage's records (a repeated delivery, which Meta
sends until it gets a 200, stores nothing twice), and read back for
``media-origin whatsapp failures``. Also the messages media-origin itself sent
(``whatsapp message --send``), so a status can be joined to its file.
"""

from __future__ import annotations

import hashlib
import json
import time

from origin.cloudapi.webhooks import (
    Status,
    shared_header_valid,
    signature_valid,
    status_from_record,
    status_record,
    statuses,
    utc_day,
    utc_days,
)
from origin.config import WhatsAppConfig
from storage.records import Records

STATUSES = "whatsapp/statuses"
SENT = "whatsapp/sent"
MAX_DELIVERY_BYTES = 1_000_000  # a delivery is a few KB; Meta batches at most a few hundred


def authentic(config: WhatsAppConfig, body: bytes, headers: dict[str, str]) -> bool:
    """Meta signs the raw body with the app secret; 360dialog carries the secret
    in the configured header. No secret configured: nothing is authentic."""
    if config.app_secret is None:
        return False
    if config.provider == "meta":
        return signature_valid(config.app_secret, body, headers.get("x-hub-signature-256"))
    return shared_header_valid(config.app_secret, headers.get(config.webhook_header.lower()))


async def keep(
    records: Records, payload: object, now: float | None = None
) -> tuple[list[Status], int]:
    """(the statuses stored, how many were repeats): each status written once."""
    received = time.time() if now is None else now
    stored: list[Status] = []
    repeated = 0
    for status in statuses(payload):
        name = f"{STATUSES}/{utc_day(status.timestamp)}/{status.key}.json"
        if await records.create(name, status_record(status, received)):
            stored.append(status)
        else:
            repeated += 1
    return stored, repeated


async def kept(records: Records, start: float, end: float) -> list[Status]:
    """The statuses stamped on the days from ``start`` to ``end`` (unix seconds),
    oldest first. Kept one folder a day, by the status's own stamp, so that a
    report on the last hour reads a day's records, not every one ever kept."""
    found = []
    for day in utc_days(start, end):
        for name in await records.names(f"{STATUSES}/{day}"):
            data = await records.read(name)
            status = status_from_record(data) if data is not None else None
            if status is not None:
                found.append(status)
    return sorted(found, key=lambda status: status.timestamp)


def _sent_name(wamid: str) -> str:
    return f"{SENT}/{hashlib.sha256(wamid.encode()).hexdigest()[:40]}.json"


async def record_sent(records: Records, wamid: str, path: str, number: str, by: str) -> None:
    body = {"wamid": wamid, "path": path, "number": number, "by": by, "sent_at": time.time()}
    await records.write(_sent_name(wamid), json.dumps(body, sort_keys=True).encode())


async def sent(records: Records, wamid: str) -> dict[str, object] | None:
    data = await records.read(_sent_name(wamid))
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return None
