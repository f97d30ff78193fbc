"""Long conversions as jobs over real sockets: 202 and a Location, progress to
done, the file visible only once whole; a client that goes away, a timeout, a
restart (clean and killed) with a job in flight, ffmpeg absent, and two
instances over one bucket answering for the same job."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from origin.convert.jobs import STALE_AFTER
from origin.whatsapp.inspection import inspect_file
from tests.helpers import conversion_inputs as inputs
from tests.helpers.probes import b_frame_count
from tests.helpers.s3 import new_bucket
from tests.helpers.servers import REPO, process_tree, start_server, write_config

TOKEN = "jobs-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENV = {"TEST_JOBS_TOKEN": TOKEN}
CONFIG = """
[api]
token_env = "TEST_JOBS_TOKEN"

[convert]
{extra}

[policy."/"]
convert = true
"""
LONG_SECONDS = 60  # a minute of 320x240 video: a few seconds to convert here


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    return inputs.long_video(tmp_path_factory.mktemp("long") / "long.mp4", LONG_SECONDS)


def server(tmp_path, extra="", bucket=None, name="uvicorn"):
    root = tmp_path / "media"
    root.mkdir(exist_ok=True)
    if "job_after" not in extra:
        extra += "\njob_after = 0.3"
    config = write_config(tmp_path, CONFIG.format(extra=extra), bucket=bucket)
    return start_server(config, root, env=ENV, server=name)


def put(origin, path, body, **params):
    return origin.client().put(path, content=body, headers=AUTH, params=params, timeout=60)


def job_of(origin, answer):
    assert answer.status_code == 202, answer.text
    location = answer.headers["location"]
    assert answer.json() == {"job": location} and location.startswith("/_jobs/")
    return location


def wait_for(origin, location, states=("done", "failed"), seconds=90):
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = origin.client().get(location, headers=AUTH)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        if answer.json()["state"] in states:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"job still {seen[-1]['state']} after {seconds} s")


def work_folders(origin):
    """What the server's processes hold in the conversion work area."""
    pids = {str(pid) for pid in process_tree(origin.process.pid)}
    base = __import__("origin.convert.conversions", fromlist=["WORK_AREA"]).WORK_AREA
    return [
        entry
        for folder in base.glob("*")
        if folder.is_dir() and folder.name.split("-")[0] in pids
        for entry in folder.iterdir()
    ]


def test_a_long_conversion_is_a_job_with_progress_until_the_file_appears(tmp_path, long_video):
    with server(tmp_path) as origin:
        location = job_of(origin, put(origin, "/video/long.mp4", long_video.read_bytes()))
        answer = origin.client().get(location, headers=AUTH)
        assert answer.json()["state"] in ("queued", "running")
        assert origin.client().get("/video/long.mp4").status_code == 404  # not before it is whole
        seen = wait_for(origin, location)
        done = seen[-1]
        assert done["state"] == "done" and done["progress"] == 100, done
        progress = [entry["progress"] for entry in seen]
        assert progress == sorted(progress) and any(0 < value < 100 for value in progress)
        result = done["result"]
        assert result["path"] == "/video/long.mp4" and "converted" in result
        file = origin.root / "video/long.mp4"
        assert file.stat().st_size == result["size"] and b_frame_count(file) == 0
        assert inspect_file(file, "/video/long.mp4").verdict != "reject"
        assert origin.client().get("/video/long.mp4").status_code == 200
        assert work_folders(origin) == []  # every conversion's folder removed


def job_states(origin) -> list[str]:
    records = (origin.root / ".media-origin/jobs").glob("*.json")
    return [json.loads(record.read_bytes())["state"] for record in records]


def test_a_client_that_goes_away_does_not_stop_its_conversion(tmp_path, long_video):
    """The whole body sent, then the connection closed while the conversion runs
    (the request still waiting for its answer: job_after is long). Closing right
    after the last byte would race the server's reading of it: that is the
    incomplete body, which stores nothing (tests/test_faults_input.py)."""
    body = long_video.read_bytes()
    with server(tmp_path, extra="job_after = 60") as origin:
        jobs = origin.root / ".media-origin/jobs"
        with socket.create_connection(("127.0.0.1", origin.port)) as connection:
            connection.sendall(
                f"PUT /gone/long.mp4 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            started = time.monotonic() + 30
            while not list(jobs.glob("*.json")) and time.monotonic() < started:
                time.sleep(0.05)
            record = json.loads(next(jobs.glob("*.json")).read_bytes())
            assert record["state"] in ("queued", "running")  # gone mid-conversion
        file = origin.root / "gone/long.mp4"
        deadline = time.monotonic() + 90
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert file.exists() and inspect_file(file, "/gone/long.mp4").verdict != "reject"
        # The file is made visible first, then its job's record says done.
        while time.monotonic() < deadline and job_states(origin) != ["done"]:
            time.sleep(0.05)
        assert job_states(origin) == ["done"]
        assert "Traceback" not in origin.stderr()


def test_a_conversion_past_its_timeout_is_stopped_and_leaves_nothing(tmp_path, long_video):
    with server(tmp_path, extra="timeout = 1\njob_after = 30") as origin:
        started = time.monotonic()
        answer = put(origin, "/video/slow.mp4", long_video.read_bytes())
        assert time.monotonic() - started < 15
        assert answer.status_code == 422 and answer.json()["error"] == "conversion_timeout"
        assert "longer than 1 s ([convert] timeout)" in answer.json()["message"]
        assert not (origin.root / "video").exists() and work_folders(origin) == []


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_a_restart_with_a_job_in_flight_reports_it_failed_and_leaves_nothing(
    tmp_path, long_video, how
):
    origin = server(tmp_path, name="granian")
    try:
        location = job_of(origin, put(origin, "/video/cut.mp4", long_video.read_bytes()))
        wait_for(origin, location, states=("running",))
        if how == "stopped":
            origin.stop()
        else:
            for pid in process_tree(origin.process.pid):
                os.kill(pid, signal.SIGKILL)
            origin.process.wait()
    finally:
        origin.stop()
    with server(tmp_path, name="granian") as again:
        seen = wait_for(again, location, seconds=STALE_AFTER + 5)
        assert seen[-1]["state"] == "failed"
        assert seen[-1]["error"]["error"] == "conversion_interrupted"
        assert not (again.root / "video").exists()
        uploads = again.root / ".media-origin/uploads"
        assert [
            p
            for p in uploads.iterdir()
            if p.name.split("-")[0] != str(again.process.pid)
            and not str(p.name).startswith(tuple(map(str, process_tree(again.process.pid))))
        ] == []


def test_without_ffmpeg_audio_and_video_are_503_and_the_rest_goes_on(tmp_path):
    mov = inputs.mov_hevc(tmp_path / "a.mov").read_bytes()
    jpeg = inputs.cmyk_jpeg(tmp_path / "c.jpg").read_bytes()
    extra = 'ffmpeg = "/nonexistent/ffmpeg"\nffprobe = "/nonexistent/ffprobe"\njob_after = 60'
    with server(tmp_path, extra=extra) as origin:
        assert "conversion: pictures only: ffmpeg and ffprobe are not installed" in origin.stderr()
        answer = put(origin, "/video/a.mov", mov)
        assert answer.status_code == 503 and answer.json()["error"] == "converter_unavailable"
        assert "apt-get install ffmpeg" in answer.json()["message"]
        assert put(origin, "/photos/c.jpg", jpeg).status_code == 201  # Pillow needs no ffmpeg
        assert origin.client().get("/photos/c.jpg").status_code == 200
        checked = subprocess.run(
            [sys.executable, "-m", "origin", "check", "--config", str(origin.config)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert checked.returncode == 0 and "1 file checked: 1 ok" in checked.stdout


def test_any_instance_over_one_bucket_answers_for_a_job(tmp_path, long_video, s3_endpoint):
    bucket = new_bucket(s3_endpoint)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with server(tmp_path / "a", bucket=bucket) as one, server(tmp_path / "b", bucket=bucket) as two:
        location = job_of(one, put(one, "/video/shared.mp4", long_video.read_bytes()))
        seen = wait_for(two, location)
        assert seen[0]["state"] in ("queued", "running") and seen[-1]["state"] == "done"
        assert two.client().get("/video/shared.mp4").status_code == 200
