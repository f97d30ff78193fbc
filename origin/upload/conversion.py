"""Uploads that are converted instead of refused: what a request asks
(``conversion_wanted``: ``?convert=``, ``?as=`` and the folder's policy), and
the steps that follow the upload's own (``Conversions.finish``): each file
checked, converted when it must be, the output checked again and staged under
its new name, then every file made visible together, or none.

A conversion that has not ended within ``[convert] job_after`` seconds goes on
as a job: the upload is answered 202 with where to ask, and the files appear
whole when it is done. The job owns the upload's writers from the start, so a
client that goes away changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiofiles

from origin.config import Config
from origin.convert.conversions import Converter
from origin.convert.jobs import Job, Jobs
from origin.convert.tools import ConversionFailed
from origin.upload import staging
from origin.upload.refusal import Refused, refusal
from origin.upload.request import query
from origin.upload.results import Accepted, Stored
from origin.upload.staging import Checked, Committed, Upload, commit_all, inspect_whole
from origin.whatsapp.recipes import ASKABLE
from storage.base import Storage
from storage.records import RESERVED

CHUNK = 1024 * 1024
ORIGINALS = f"{RESERVED}/originals/"  # never served: a dot-folder names no file
_YES, _NO = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class Wanted:
    """A request's conversion: what it asks for, and what its folder says."""

    asked: str | None  # ?as=
    folder_as: str | None
    keep_original: bool


def conversion_wanted(config: Config, scope: dict, url_path: str) -> Wanted | None:
    """The request's ``?convert=`` over its folder's ``convert``; ``?as=`` asks for
    a conversion by itself. A value neither knows is a 400 that lists the right ones."""
    parameters = query(scope)
    asked = parameters.get("as", [None])[-1]
    if asked is not None and asked not in ASKABLE:
        raise Refused(
            400, "bad_parameter", f"?as={asked} is not one of {', '.join(ASKABLE)}", url_path
        )
    explicit = None
    if "convert" in parameters:
        value = parameters["convert"][-1].lower()
        if value not in _YES + _NO:
            raise Refused(400, "bad_parameter", f"?convert={value} is not true or false", url_path)
        explicit = value in _YES
    if explicit is False and asked is not None:
        raise Refused(
            400,
            "bad_parameter",
            "?as= asks for a conversion that ?convert=false turns off: leave one out",
            url_path,
        )
    policy = config.policies.for_path(url_path if not url_path.endswith("/") else url_path + "-")
    if not (explicit if explicit is not None else policy.convert or asked is not None):
        return None
    return Wanted(asked, policy.convert_as, policy.keep_original)


class Conversions:
    def __init__(
        self,
        config: Config,
        storage: Storage,
        describe: Callable[[Committed], Stored],
    ) -> None:
        self.config = config
        self.storage = storage
        self.describe = describe
        self.converter = Converter(config.convert)
        self.jobs = Jobs(storage.records)

    async def finish(
        self, uploads: list[Upload], force: bool, wanted: Wanted, single: bool
    ) -> list[Stored] | Accepted:
        """Every file received: convert, check, store; or a job, if that takes long."""
        owned = list(uploads)
        uploads.clear()  # the job's now: the request's own clean-up must not abort them
        job = self.jobs.new(owned[0].url_path if single else owned[0].url_path.rsplit("/", 1)[0])
        task = self.jobs.start(
            job, lambda job: self._convert_all(owned, force, wanted, job, single)
        )
        done, _ = await asyncio.wait({task}, timeout=self.config.convert.job_after)
        return task.result() if task in done else Accepted(job)

    async def _convert_all(
        self, owned: list[Upload], force: bool, wanted: Wanted, job: Job, single: bool
    ) -> list[Stored]:
        staged: list[Upload] = []
        try:
            originals: list[Checked] = []
            checked: list[Checked] = []
            for index, upload in enumerate(owned):
                item, original = await self._convert_one(
                    upload, force, wanted, job, index, len(owned), staged
                )
                checked.append(item)
                if original is not None:
                    originals.append(original)
            await commit_all(originals)
            stored = [self.describe(file) for file in await commit_all(checked)]
        finally:
            await staging.abort_all(owned + staged)  # what was committed is gone from here
        bodies = [file.to_json() for file in stored]
        job.result = bodies[0] if single else bodies
        return stored

    async def _convert_one(
        self,
        upload: Upload,
        force: bool,
        wanted: Wanted,
        job: Job,
        index: int,
        count: int,
        staged: list[Upload],
    ) -> tuple[Checked, Checked | None]:
        report = await inspect_whole(upload)

        def progress(state: str, percent: int) -> None:
            job.state = state if index == 0 or state == "running" else job.state
            job.progress = (index * 100 + percent) // count

        try:
            converted = await self.converter.convert(
                upload.writer.local_path,
                upload.url_path,
                report,
                wanted.asked,
                wanted.folder_as,
                progress,
            )
        except ConversionFailed as failed:
            raise Refused(failed.status, failed.code, failed.message, upload.url_path) from None
        if converted is None:  # already what WhatsApp takes: stored byte for byte
            if (refused := refusal(report.problems, force, upload.url_path)) is not None:
                raise refused
            return Checked(upload, report.problems), None
        try:
            output = await staging.start(self.storage, converted.name, force=False)
            staged.append(output)
            await _copy(converted.output, output)
        finally:
            self.converter.finished_with(converted)
        original = None
        if wanted.keep_original:
            writer = await self.storage.create(ORIGINALS + upload.path)
            kept = Upload(upload.url_path, ORIGINALS + upload.path, writer, upload.limit)
            staged.append(kept)
            await _copy(upload.writer.local_path, kept)
            original = Checked(kept, [])
        return Checked(output, converted.report.problems, converted.to_json()), original

    async def stop(self) -> None:
        await self.jobs.stop()
        self.converter.close()


async def _copy(source: Path, upload: Upload) -> None:
    async with aiofiles.open(source, "rb") as file:
        while chunk := await file.read(CHUNK):
            await staging.write(upload, chunk)
