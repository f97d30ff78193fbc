"""media-origin check: the whole storage or the paths given, verdicts, exit status."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import media as fx

SCRIPT = Path(sys.executable).parent / "media-origin"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "media"
    (root / "campaigns").mkdir(parents=True)
    (root / "docs").mkdir()
    fx.image(root / "campaigns" / "ok.jpg", fmt="JPEG")
    fx.rotated_jpeg(root / "campaigns" / "rotated.jpg")
    fx.image(root / "campaigns" / "webp-as.jpg", size=(512, 512), fmt="WEBP")
    fx.pdf(root / "docs" / "a.pdf")
    (root / ".hidden.jpg").write_text("not served, not checked")
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nroot = "media"\n')
    return tmp_path, config


def check(config, *arguments, cwd=None):
    return subprocess.run(
        [str(SCRIPT), "check", "--config", str(config), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_json_reports_every_served_file_with_the_issue_fields(tree):
    _, config = tree
    result = check(config, "--json")
    assert result.returncode == 1  # one file is rejected
    reports = {report["path"]: report for report in json.loads(result.stdout)}
    assert set(reports) == {
        "/campaigns/ok.jpg",
        "/campaigns/rotated.jpg",
        "/campaigns/webp-as.jpg",
        "/docs/a.pdf",
    }
    assert reports["/campaigns/ok.jpg"]["verdict"] == "ok"
    assert reports["/campaigns/rotated.jpg"]["verdict"] == "warn"
    rejected = reports["/campaigns/webp-as.jpg"]
    assert rejected["verdict"] == "reject"
    assert rejected["whatsapp_type"] == "image"
    assert rejected["content_type"] == "image/jpeg"
    assert rejected["problems"][0]["code"] == "content_type_mismatch"
    # The issue's fields, and the level that says reject from warn (one shape everywhere)
    assert set(rejected["problems"][0]) == {"code", "level", "message"}
    assert rejected["problems"][0]["level"] == "error"


def test_human_output_groups_by_verdict_with_a_summary(tree):
    _, config = tree
    lines = check(config).stdout.splitlines()
    assert lines[0] == "reject (1)"
    assert lines.index("warn (1)") < lines.index("ok (2)")
    assert lines[-1] == "4 files checked: 2 ok, 1 warn, 1 reject"
    assert any("content_type_mismatch" in line for line in lines)


def test_paths_can_be_folders_stored_paths_or_files_anywhere(tree):
    directory, config = tree
    outside = directory / "upload.png"
    fx.image(outside, fmt="PNG")
    result = check(config, "--json", "/docs", "/campaigns/ok.jpg", str(outside))
    assert result.returncode == 0
    paths = [report["path"] for report in json.loads(result.stdout)]
    assert sorted(paths) == sorted(["/docs/a.pdf", "/campaigns/ok.jpg", str(outside)])


def test_a_missing_path_is_an_error(tree):
    _, config = tree
    result = check(config, "/nope.jpg")
    assert result.returncode == 2
    assert "/nope.jpg: no such file or folder" in result.stderr


def test_no_progress_noise_when_not_on_a_terminal(tree):
    _, config = tree
    assert "checked" not in check(config).stderr


def test_the_shipped_media_pass_but_the_samples_to_convert():
    """media/to-convert holds one file of each kind Meta refuses and media-origin
    converts (README, "Converting media"); everything else ships ready to send."""
    repo = Path(__file__).resolve().parent.parent
    result = check(repo / "config.toml", "--json")
    verdicts = {report["path"]: report["verdict"] for report in json.loads(result.stdout)}
    samples = {
        path: verdict for path, verdict in verdicts.items() if path.startswith("/to-convert/")
    }
    assert result.returncode == 1 and len(verdicts) > len(samples) >= 5
    assert {v for path, v in verdicts.items() if path not in samples} == {"ok"}
    assert (
        samples.pop("/to-convert/wave.png") == "ok"
    )  # a fine image; a sticker only once converted
    assert set(samples.values()) == {"reject"}


def test_progress_on_a_terminal(tree):
    import os
    import pty

    _, config = tree
    leader, follower = pty.openpty()
    try:
        subprocess.run(
            [str(SCRIPT), "check", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=follower,
            timeout=120,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert b"checked 1/4" in shown
