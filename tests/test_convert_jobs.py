"""A job's record: what GET /_jobs/<id> reads, a stale one reported failed, a
foreign or torn one ignored; and a job's life in a real filesystem's records."""

import asyncio
import json
import time

import pytest

from origin.convert.jobs import STALE_AFTER, Job, Jobs, job_from_record, job_record
from storage.records import FilesystemRecords


def test_a_record_reads_back_as_the_job():
    job = Job("a" * 16, "/v/clip.mov", state="done", progress=100, result={"path": "/v/clip.mp4"})
    again = job_from_record(job_record(job), job.updated)
    assert again == job and again.to_json()["result"] == {"path": "/v/clip.mp4"}
    assert "error" not in again.to_json()


@pytest.mark.parametrize("state", ["queued", "running"])
def test_an_unfinished_job_nobody_has_written_for_a_while_is_reported_failed(state):
    job = Job("b" * 16, "/a.mov", state=state)
    assert job_from_record(job_record(job), job.updated + STALE_AFTER - 1).state == state
    stale = job_from_record(job_record(job), job.updated + STALE_AFTER + 1)
    assert stale.state == "failed" and stale.error["error"] == "conversion_interrupted"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[]",
        json.dumps({"id": "x"}).encode(),
        b'{"id": "x", "path": "/", "state": "odd"}',
    ],
)
def test_a_record_that_is_not_a_job_is_none(data):
    assert job_from_record(data, time.time()) is None


def test_a_job_runs_to_done_and_its_record_says_so(tmp_path):
    jobs = Jobs(FilesystemRecords(tmp_path))

    async def scenario():
        job = jobs.new("/a.mov")

        async def work(job):
            job.state, job.progress = "running", 40
            await asyncio.sleep(1.3)  # past one heartbeat
            job.result = {"path": "/a.mp4"}

        task = jobs.start(job, work)
        await asyncio.sleep(1.15)
        running = await jobs.load(job.id)
        await task
        return running, await jobs.load(job.id)

    running, done = asyncio.run(scenario())
    assert (running.state, running.progress) == ("running", 40)
    assert done.state == "done" and done.result == {"path": "/a.mp4"} and done.progress == 100


def test_a_job_that_fails_or_is_stopped_says_why(tmp_path):
    jobs = Jobs(FilesystemRecords(tmp_path))

    class Refusal(Exception):
        code, message = "unreadable", "the file cannot be read"

    async def scenario():
        failing, stopped = jobs.new("/a.mov"), jobs.new("/b.mov")

        async def fail(job):
            raise Refusal

        async def forever(job):
            await asyncio.sleep(60)

        with pytest.raises(Refusal):
            await jobs.start(failing, fail)
        jobs.start(stopped, forever)
        await asyncio.sleep(0.05)
        await jobs.stop()
        return await jobs.load(failing.id), await jobs.load(stopped.id)

    failed, stopped = asyncio.run(scenario())
    assert failed.error == {"error": "unreadable", "message": "the file cannot be read"}
    assert stopped.state == "failed" and stopped.error["error"] == "conversion_interrupted"


def test_only_a_job_id_is_looked_up(tmp_path):
    jobs = Jobs(FilesystemRecords(tmp_path))
    assert asyncio.run(jobs.load("../../etc/passwd")) is None
    assert asyncio.run(jobs.load("a" * 16)) is None
