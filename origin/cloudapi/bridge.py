"""Media IDs for stored files: the one place that decides whether the current
bytes of a path have a valid ID for a number, uploads them when asked, and says
what to put in a message — the ID when there is one, the link always.

The IDs live in the storage's records, keyed by (provider, number, content
hash), so every instance over one store shares them; a record is created with
a conditional write, so two instances uploading the same bytes at once record
one ID (the loser deletes its own at the provider). Reads never call the
provider: a GET answers from the records whatever the provider's state, and an
ID due for renewal is renewed in the background.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from urllib.parse import quote

from origin.cloudapi.calls import ProviderError, delete_call, upload_call
from origin.cloudapi.client import Attachment, Client
from origin.cloudapi.media_ids import (
    IDS,
    MediaId,
    from_record,
    iso_utc,
    record_name,
    to_record,
    with_path,
    without_path,
)
from origin.config import Config, Number, WhatsAppConfig
from origin.serve.links import signed_url, version_of
from origin.serve.paths import storage_path
from origin.upload.refusal import Refused, refusal
from origin.upload.results import SIGNED_URL_SECONDS
from origin.whatsapp.inspection import inspect_file
from origin.whatsapp.problems import base_name
from storage.base import Storage
from storage.copying import copy_to_file
from storage.records import Records
from storage.uploads import WorkArea

logger = logging.getLogger("media_origin")


@dataclass(frozen=True, slots=True)
class Answer:
    """``{"id", "expires_at", "number", "link", "versioned_link"}``."""

    media_id: str | None
    expires_at: str | None
    number: str | None
    link: str
    versioned_link: str
    uploaded: bool = False  # this request uploaded (201) rather than reused (200)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.media_id,
            "expires_at": self.expires_at,
            "number": self.number,
            "link": self.link,
            "versioned_link": self.versioned_link,
        }


NOT_CONFIGURED = (
    "no [whatsapp] table in the config: media IDs need a provider (README, Sending by ID)"
)


def links(config: Config, url_path: str, content_hash: str) -> tuple[str, str]:
    """The plain and the versioned link of these bytes at ``url_path``. In a
    signed folder both are signed (for as long as the upload API's signed link):
    Meta's fetch of an unsigned one would be refused with a 403."""
    version = f"v={version_of(content_hash)}"
    key = config.api.signing_key
    if config.policies.for_path(url_path).signed and key is not None:
        expires = int(time.time()) + SIGNED_URL_SECONDS
        link = signed_url(config.server.base_url, key, url_path, expires)
        return link, f"{link}&{version}"
    link = config.server.base_url + quote(url_path)
    return link, f"{link}?{version}"


def chosen_number(whatsapp: WhatsAppConfig, asked: str | None) -> Number | None:
    """The number asked for; None when the bridge is off. A 400 when several
    are configured and none is named, a 404 for one not configured."""
    if not whatsapp.configured:
        return None
    number = whatsapp.number(asked)
    if number is None and asked is None:
        names = ", ".join(n.phone_number_id for n in whatsapp.numbers)
        needed = f"several numbers are configured: add ?number= ({names})"
        raise Refused(400, "number_needed", needed)
    if number is None:
        raise Refused(404, "unknown_number", f"number {asked} is not configured in [whatsapp]")
    return number


def answer_for(
    config: Config, url_path: str, number: Number, record: MediaId, uploaded: bool
) -> Answer:
    """The answer that hands out ``record`` for the bytes at ``url_path``."""
    link, versioned = links(config, url_path, record.content_hash)
    expires = iso_utc(record.expires_at)
    return Answer(record.media_id, expires, number.phone_number_id, link, versioned, uploaded)


async def stored_version(storage: Storage, url_path: str) -> tuple[str, str]:
    """(storage path, content hash) of the bytes now at ``url_path``; 404 without."""
    path = storage_path(url_path)
    stat = await storage.stat(path) if path is not None else None
    if path is None or stat is None:
        raise Refused(404, "not_found", f"no file is stored at {url_path}", url_path)
    return path, await storage.content_hash(path, stat)


class Bridge:
    def __init__(
        self,
        config: Config,
        storage: Storage,
        area: WorkArea,
        count: Callable[[str, str | None], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``count(result, reason)``: told of each upload (the app's metrics, when on)."""
        self.config, self.storage, self.area, self.clock = config, storage, area, clock
        self.count = count or (lambda result, reason: None)
        self.whatsapp = config.whatsapp
        self.client = Client(self.whatsapp.timeout)
        self._renewing: set[str] = set()
        self.background = Background()
        self.ids = IdRecords(storage.records)

    def close(self) -> None:
        self.background.cancel()
        self.client.close()
        self.area.close()

    async def current(self, url_path: str, asked: str | None) -> Answer:
        """What to put in a message now, from the records alone."""
        number = chosen_number(self.whatsapp, asked)
        _, content_hash = await stored_version(self.storage, url_path)
        link, versioned = links(self.config, url_path, content_hash)
        if number is None:
            return Answer(None, None, None, link, versioned)
        record = await self._record(number, content_hash)
        now = self.clock()
        if record is not None and record.due(now, self.whatsapp.renew_days):
            self._renew_later(url_path, number, record)
        if record is None or not record.valid(now):
            return Answer(None, None, number.phone_number_id, link, versioned)
        return answer_for(self.config, url_path, number, record, uploaded=False)

    async def ensure(self, url_path: str, asked: str | None, renew: bool = False) -> Answer:
        """A valid ID for the current bytes: the recorded one, or a new upload
        (after the bytes pass ``check``). ``renew``: upload even if one is valid."""
        number = chosen_number(self.whatsapp, asked)
        if number is None:
            raise Refused(503, "whatsapp_not_configured", NOT_CONFIGURED, url_path)
        path, content_hash = await stored_version(self.storage, url_path)
        record = await self._record(number, content_hash)
        if record is not None and record.valid(self.clock()) and not renew:
            record = await self.ids.used_at(record, url_path)
            return answer_for(self.config, url_path, number, record, uploaded=False)
        try:
            made = await self._upload(url_path, path, number)
        except Refused as refused:
            self.count("failed", refused.code)
            raise
        self.count("renewed" if renew else "uploaded", None)
        # A renewal replaces its record (keeping its paths); bytes replaced while
        # they were read are a new key, created like any first upload.
        replacing = record is not None and record.content_hash == made.content_hash
        if replacing and record is not None:
            made = with_path(replace(made, paths=record.paths), url_path)
        winner = await self.ids.keep(made, replacing)
        if winner != made:  # another instance recorded its upload first
            self._forget_at_provider(number, made.media_id)
            winner = await self.ids.used_at(winner, url_path)
            return answer_for(self.config, url_path, number, winner, uploaded=False)
        return answer_for(self.config, url_path, number, made, uploaded=True)

    async def ids_of(self, url_path: str) -> list[tuple[Number, MediaId]]:
        """The IDs recorded for the bytes now at ``url_path``, for every number:
        what a DELETE of the file takes with it."""
        if not self.whatsapp.configured:
            return []
        try:
            _, content_hash = await stored_version(self.storage, url_path)
        except Refused:
            return []
        found = []
        for number in self.whatsapp.numbers:
            record = await self._record(number, content_hash)
            if record is not None:
                found.append((number, record))
        return found

    async def forget(self, known: list[tuple[Number, MediaId]], url_path: str) -> None:
        """The file at ``url_path`` is gone: an ID no other path uses any more is
        deleted at the provider (best effort, in the background, logged)."""
        for number, record in known:
            if await self.ids.released(record, url_path):
                self._forget_at_provider(number, record.media_id)

    async def _record(self, number: Number, content_hash: str) -> MediaId | None:
        return await self.ids.get(self.whatsapp.provider, number.phone_number_id, content_hash)

    async def _upload(self, url_path: str, path: str, number: Number) -> MediaId:
        work = await asyncio.to_thread(self.area.new_folder)
        try:
            local = work / (base_name(url_path) or "file")
            copied = await copy_to_file(self.storage, path, local)
            if copied is None:
                raise Refused(404, "not_found", f"no file is stored at {url_path}", url_path)
            report = await asyncio.to_thread(inspect_file, local, url_path)
            refused = refusal(report.problems, False, url_path)
            if refused is not None:  # the upload API's own answer for these bytes
                raise refused
            content_hash = await self.storage.content_hash(path, copied)
            call = upload_call(self.whatsapp, number, report.content_type)
            attachment = Attachment(local, local.name, report.content_type)
            try:
                media_id = await asyncio.to_thread(self.client.send, call, "id", attachment)
            except ProviderError as error:
                raise Refused(502, f"provider_{error.code}", str(error), url_path) from None
            return MediaId(
                media_id,
                content_hash,
                self.whatsapp.provider,
                number.phone_number_id,
                self.clock(),
                (url_path,),
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    def _renew_later(self, url_path: str, number: Number, record: MediaId) -> None:
        key = f"{number.phone_number_id}:{record.content_hash}"
        if key in self._renewing:
            return
        self._renewing.add(key)

        async def renew() -> None:
            try:
                await self.ensure(url_path, number.phone_number_id, renew=True)
            except Exception as error:  # logged: a GET never fails for a renewal
                logger.warning("whatsapp: renewing the ID of %s failed: %s", url_path, error)
            finally:
                self._renewing.discard(key)

        self.background.start(renew())

    def _forget_at_provider(self, number: Number, media_id: str) -> None:
        call = delete_call(self.whatsapp, number, media_id)

        async def forget() -> None:
            try:
                await asyncio.to_thread(self.client.send, call, "success")
            except ProviderError as error:
                logger.warning("whatsapp: deleting media ID %s failed: %s", media_id, error)

        self.background.start(forget())


class IdRecords:
    """The media-ID records in the storage: one per (provider, number, content hash)."""

    def __init__(self, records: Records) -> None:
        self.records = records

    async def get(self, provider: str, number: str, content_hash: str) -> MediaId | None:
        data = await self.records.read(record_name(provider, number, content_hash))
        return from_record(data) if data is not None else None

    async def every(self, provider: str) -> list[MediaId]:
        found = []
        for name in await self.records.names(f"{IDS}/{provider}"):
            data = await self.records.read(name)
            record = from_record(data) if data is not None else None
            if record is not None:
                found.append(record)
        return found

    async def keep(self, made: MediaId, replacing: bool) -> MediaId:
        """The record kept for ``made``'s key: ``made`` itself, or the one another
        writer created first (a conditional create decides; a renewal replaces)."""
        name = _name(made)
        if replacing or await self.records.create(name, to_record(made)):
            if replacing:
                await self.records.write(name, to_record(made))
            return made
        winner = await self.get(made.provider, made.number, made.content_hash)
        if winner is None:  # a torn record where the winner's should be: ours instead
            await self.records.write(name, to_record(made))
            return made
        return winner

    async def used_at(self, record: MediaId, path: str) -> MediaId:
        """The record, knowing that ``path`` holds its bytes too."""
        if path in record.paths:
            return record
        record = with_path(record, path)
        await self.records.write(_name(record), to_record(record))
        return record

    async def released(self, record: MediaId, path: str) -> bool:
        """``path`` no longer holds the bytes: True when no path does (the record
        is dropped), False when others still use the ID (the record is kept)."""
        left = without_path(record, path)
        if left.paths:
            await self.records.write(_name(left), to_record(left))
            return False
        await self.records.delete(_name(record))
        return True


def _name(record: MediaId) -> str:
    return record_name(record.provider, record.number, record.content_hash)


class Background:
    """Work a request starts and does not wait for (a renewal, a best-effort
    delete): kept so that it is not collected mid-way, and cancelled at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
