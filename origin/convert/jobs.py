"""Conversion jobs: an upload whose conversion outlasts the answer. A job's
state lives in the storage's records (``storage.records``), never only in the
memory of the process running it, so that any instance over the same store
answers ``GET /_jobs/<id>``.

While a job runs, its process rewrites the record every HEARTBEAT seconds (with
the progress). A record that says queued or running but has not been rewritten
for STALE_AFTER seconds belongs to a process that died: it is reported failed,
and what that process was writing is removed by the next one to start (the
upload area's orphans). A server that stops cleanly marks its own jobs failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from storage.records import Records

STATES = ("queued", "running", "done", "failed")
HEARTBEAT = 1.0  # seconds between a running job's record writes
STALE_AFTER = 6.0  # seconds without a write after which a job's process is taken as gone
JOB_ID = re.compile(r"[A-Za-z0-9_-]{16}")
STOPPED = {
    "error": "conversion_interrupted",
    "message": "the server stopped before the conversion finished; nothing was stored: "
    "upload the file again",
}


@dataclass
class Job:
    id: str
    path: str  # the upload's path (a POST's folder)
    state: str = "queued"
    progress: int = 0
    result: Any = None  # the body a 201 would have carried
    error: dict[str, str] | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)

    @property
    def location(self) -> str:
        return f"/_jobs/{self.id}"

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "job": self.location,
            "path": self.path,
            "state": self.state,
            "progress": self.progress,
        }
        if self.state == "done":
            body["result"] = self.result
        if self.state == "failed":
            body["error"] = self.error
        return body


def job_record(job: Job) -> bytes:
    return json.dumps(asdict(job), ensure_ascii=False).encode()


def job_from_record(data: bytes, now: float) -> Job | None:
    """The job a record holds (None if it is not one), a stale one reported failed."""
    try:
        fields = json.loads(data)
        job = Job(**fields)
    except (ValueError, TypeError):
        return None
    if job.state not in STATES:
        return None
    if not job.finished and now - job.updated > STALE_AFTER:
        job.state, job.error = "failed", dict(STOPPED)
    return job


class Jobs:
    def __init__(self, records: Records) -> None:
        self.records = records
        self._running: dict[str, tuple[Job, asyncio.Task[Any]]] = {}

    @staticmethod
    def new(path: str) -> Job:
        return Job(id=secrets.token_urlsafe(12), path=path)

    async def load(self, job_id: str) -> Job | None:
        if not JOB_ID.fullmatch(job_id):
            return None
        data = await self.records.read(f"jobs/{job_id}.json")
        return job_from_record(data, time.time()) if data is not None else None

    async def save(self, job: Job) -> None:
        job.updated = time.time()
        await self.records.write(f"jobs/{job.id}.json", job_record(job))

    def start(self, job: Job, work: Callable[[Job], Awaitable[Any]]) -> asyncio.Task[Any]:
        """Run ``work(job)`` as a task of its own (no request's cancellation reaches
        it), its record kept alive while it runs and written when it ends."""
        task = asyncio.get_running_loop().create_task(self._run(job, work))
        self._running[job.id] = (job, task)
        task.add_done_callback(lambda _: self._running.pop(job.id, None))
        return task

    async def _run(self, job: Job, work: Callable[[Job], Awaitable[Any]]) -> Any:
        await self.save(job)
        beat = asyncio.get_running_loop().create_task(self._heartbeat(job))
        try:
            value = await work(job)  # which sets job.result, the JSON of what it made
            job.state, job.progress = "done", 100
            return value
        except asyncio.CancelledError:
            job.state, job.error = "failed", dict(STOPPED)
            raise
        except Exception as error:
            job.state = "failed"
            job.error = {
                "error": getattr(error, "code", "conversion_failed"),
                "message": getattr(error, "message", "the conversion failed; it was logged"),
            }
            raise
        finally:
            beat.cancel()
            with contextlib.suppress(Exception):
                await asyncio.shield(self.save(job))

    async def _heartbeat(self, job: Job) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            with contextlib.suppress(Exception):  # a store's hiccup: the next beat tries again
                await self.save(job)

    async def stop(self) -> None:
        """A clean shutdown: every job still running fails, and says so."""
        tasks = [task for _, task in self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
