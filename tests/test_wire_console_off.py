"""/_console/ with the console off (a config without [console]): every method on
every path under it is the 404 of a missing file, no stored file can be put
there, and `check` says a file put there by other means is never served."""

import json
import subprocess
import sys

import pytest

from tests.helpers.servers import start_server, write_config

TOKEN = "console-off-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("console-off")
    (folder / "media/_console").mkdir(parents=True)
    (folder / "media/_console/index.html").write_text("<script>alert(1)</script>")
    config = write_config(folder, '[api]\ntoken_env = "CONSOLE_OFF_TOKEN"\n')
    with start_server(config, folder / "media", env={"CONSOLE_OFF_TOKEN": TOKEN}) as server:
        yield server


PATHS = ["/_console", "/_console/", "/_console/sign-in", "/_console/index.html", "/_console/x/y"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_every_method_on_every_console_path_is_a_404(origin, method, path):
    for headers in ({}, AUTH):
        answer = origin.client().request(method, path, headers=headers, content=b"x")
        assert answer.status_code == 404, (method, path, answer.text)
    assert (origin.root / "_console/index.html").read_text() == "<script>alert(1)</script>"


def test_an_upload_into_the_console_is_refused(origin):
    answer = origin.client().post(
        "/_console/", files={"file": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}, headers=AUTH
    )
    assert answer.status_code == 404
    assert sorted(p.name for p in (origin.root / "_console").iterdir()) == ["index.html"]


def test_check_reports_a_file_stored_there(origin):
    done = subprocess.run(
        [sys.executable, "-m", "origin", "check", "--json", "--config", str(origin.config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    [report] = [r for r in json.loads(done.stdout) if r["path"].startswith("/_c")]
    assert report["path"] == "/_console/index.html" and report["verdict"] == "reject"
    assert "reserved_path" in [problem["code"] for problem in report["problems"]]
