"""``media-origin convert`` on a real storage: the converted file next to the
original under its new extension, nothing written over an existing file without
--replace, --dry-run storing nothing, --json, and the summary."""

import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from tests.helpers import media as fx
from tests.helpers.servers import REPO, write_config


@pytest.fixture
def storage(tmp_path):
    root = tmp_path / "media"
    (root / "voice").mkdir(parents=True)
    (root / "photos").mkdir()
    fx.ffmpeg(root / "voice/note.webm", *fx.AUDIO_IN, "-t", "1", "-ac", "2", "-c:a", "libopus")
    fx.image(root / "photos/cmyk.jpg", mode="CMYK")
    fx.image(root / "photos/fine.jpg")
    config = write_config(tmp_path, '[policy."/voice"]\nconvert_as = "voice"\n')
    return config, root


def run(config, *arguments):
    return subprocess.run(
        [sys.executable, "-m", "origin", "convert", "--config", str(config), *arguments],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_files_are_converted_next_to_their_originals(storage):
    config, root = storage
    original = (root / "photos/fine.jpg").read_bytes()
    result = run(config, "/voice", "/photos")
    assert result.returncode == 0, result.stderr
    assert "converted /voice/note.webm -> /voice/note.ogg" in result.stdout
    assert "converted /photos/cmyk.jpg -> /photos/cmyk-whatsapp.jpg" in result.stdout
    assert "unchanged /photos/fine.jpg: already what WhatsApp accepts" in result.stdout
    assert result.stdout.rstrip().endswith("3 files: 2 converted, 1 unchanged, 0 failed")
    assert (root / "voice/note.webm").exists() and (root / "photos/cmyk.jpg").exists()
    assert Image.open(root / "photos/cmyk-whatsapp.jpg").mode == "RGB"
    assert (root / "photos/fine.jpg").read_bytes() == original
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_an_existing_file_is_replaced_only_when_asked(storage):
    config, root = storage
    assert run(config, "/voice/note.webm").returncode == 0
    first = (root / "voice/note.ogg").read_bytes()
    again = run(config, "/voice/note.webm")
    assert again.returncode == 1 and "exists and is not replaced" in again.stdout
    assert "--replace" in again.stdout and (root / "voice/note.ogg").read_bytes() == first
    replaced = run(config, "--replace", "--as", "audio", "/voice/note.webm")
    assert replaced.returncode == 0 and "/voice/note.m4a" in replaced.stdout


def test_a_dry_run_stores_nothing_and_json_says_what_would_be(storage):
    config, root = storage
    result = run(config, "--dry-run", "--json", "/photos/cmyk.jpg")
    assert result.returncode == 0, result.stderr
    [outcome] = json.loads(result.stdout)
    assert (
        outcome["state"] == "would_convert" and outcome["stored_as"] == "/photos/cmyk-whatsapp.jpg"
    )
    assert outcome["converted"]["from"]["mode"] == "CMYK"
    assert outcome["converted"]["to"]["mode"] == "RGB"
    assert not (root / "photos/cmyk-whatsapp.jpg").exists()


def test_a_file_that_cannot_be_converted_fails_alone_with_its_reason(storage):
    config, root = storage
    (root / "photos/broken.png").write_bytes(fx.png_claiming(64, 64, idat=b"nonsense"))
    result = run(config, "/photos/broken.png", "/photos/cmyk.jpg")
    assert result.returncode == 1
    assert "failed /photos/broken.png: the picture cannot be" in result.stdout
    assert "converted /photos/cmyk.jpg" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["/nowhere.mov"], "no such file or folder"),
        (["--as", "gif", "/x"], "invalid choice: 'gif'"),
    ],
)
def test_a_bad_argument_is_one_line(storage, arguments, message):
    config, _ = storage
    result = run(config, *arguments)
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 3


def test_the_bundled_samples_convert_as_the_readme_shows(tmp_path):
    """The README's commands on a copy of the shipped config and media: every
    sample becomes a file check passes, of the kind the README says."""
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    shutil.copytree(REPO / "media", tmp_path / "media", ignore=shutil.ignore_patterns(".*"))
    config = tmp_path / "config.toml"
    dry = run(config, "--dry-run", "--json", "/to-convert")
    assert dry.returncode == 0, dry.stderr
    assert sorted(p.name for p in (tmp_path / "media/to-convert").iterdir()) == SAMPLES
    for arguments in (
        ("/to-convert/clip.mov", "/to-convert/interview.wav", "/to-convert/photo.heic"),
        ("--as", "voice", "/to-convert/note.webm"),
        ("--as", "sticker", "/to-convert/wave.png"),
    ):
        done = run(config, *arguments)
        assert done.returncode == 0, done.stdout + done.stderr
    made = {"clip.mp4": "video", "interview.m4a": "audio", "photo.jpg": "image"}
    made |= {"note.ogg": "audio", "wave.webp": "sticker"}
    checked = subprocess.run(
        [sys.executable, "-m", "origin", "check", "--config", str(config), "--json"]
        + [f"/to-convert/{name}" for name in made],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    reports = {r["path"].rsplit("/", 1)[1]: r for r in json.loads(checked.stdout)}
    assert {name: r["verdict"] for name, r in reports.items()} == dict.fromkeys(made, "ok")
    assert {name: r["whatsapp_type"] for name, r in reports.items()} == made


SAMPLES = ["clip.mov", "interview.wav", "note.webm", "photo.heic", "wave.png"]
