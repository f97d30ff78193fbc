"""The Docker image as its user meets it, without a Docker engine (none runs here):
the image's command with the image's config, over a read-only volume and over a
writable one, and a config whose folder policies are the shipped ones.

Where an engine is available, the README's "Running in Docker" commands build the
image and smoke-test it the same way."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from origin.config import load_config
from tests.helpers.disks import small_disk
from tests.helpers.servers import REPO, start_server

TOKEN = "docker-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROMO = REPO / "media" / "campaigns" / "promo.png"


def image_command() -> list[str]:
    """The Dockerfile's CMD, run from this venv."""
    cmd = next(
        line.removeprefix("CMD ").strip()
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.startswith("CMD ")
    )
    command = json.loads(cmd)
    command[0] = str(Path(sys.executable).parent / command[0])
    return command


def image_config(tmp_path: Path, data: Path) -> Path:
    """The image's config, with /data moved to a folder this test made."""
    config = tmp_path / "config.toml"
    text = (REPO / "docker" / "config.toml").read_text()
    config.write_text(text.replace('root = "/data"', f'root = "{data}"'))
    return config


def test_the_image_config_has_the_shipped_folder_policies(tmp_path):
    """A container serves invoices as private as a local install does."""
    shipped = load_config(REPO / "config.toml")
    document = tomllib.loads((REPO / "docker" / "config.toml").read_text())
    assert document["storage"]["root"] == "/data"
    assert document["server"]["host"] == "0.0.0.0"
    image = load_config(image_config(tmp_path, REPO / "media"))
    assert image.policies == shipped.policies
    assert image.log == shipped.log
    assert image.api.token_env == shipped.api.token_env
    assert image.convert == shipped.convert


def test_the_image_has_ffmpeg_from_debian_before_the_package():
    """Without ffmpeg a container could convert pictures only (503 for the rest)."""
    lines = (REPO / "Dockerfile").read_text().splitlines()
    install = next(i for i, line in enumerate(lines) if "apt-get install" in line)
    assert "ffmpeg" in lines[install] and "--no-install-recommends" in lines[install]
    assert install < next(i for i, line in enumerate(lines) if "pip install ." in line)


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_read_only_volume_serves_and_refuses_uploads_in_json(tmp_path, server):
    with small_disk(tmp_path / "data") as data:
        (data / "campaigns").mkdir()
        (data / "campaigns" / "promo.png").write_bytes(
            (REPO / "media/campaigns/promo.png").read_bytes()
        )
        subprocess.run(["mount", "-o", "remount,ro", str(data)], check=True)  # -v …:/data:ro
        config = image_config(tmp_path, data)
        env = {"MEDIA_ORIGIN_CONFIG": str(config), "MEDIA_ORIGIN_TOKEN": TOKEN}
        command = [*image_command(), "--server", server]
        with start_server(config, data, command=command, env=env) as running:
            with running.client() as http:
                reply = http.get("/campaigns/promo.png")
                assert reply.status_code == 200
                assert reply.headers["cache-control"] == "max-age=604800, immutable"
                ready = http.get("/readyz")
                assert ready.status_code == 200 and "read-only" in ready.text
                refused = http.put("/campaigns/new.png", content=reply.content, headers=AUTH)
                assert refused.status_code == 503
                assert refused.headers["content-type"] == "application/json"
                assert refused.json()["error"] == "storage_read_only"
            assert "Traceback" not in running.stderr()


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_writable_volume_takes_uploads_with_the_token(tmp_path, server):
    data = tmp_path / "data"
    data.mkdir()
    config = image_config(tmp_path, data)
    env = {"MEDIA_ORIGIN_CONFIG": str(config), "MEDIA_ORIGIN_TOKEN": TOKEN}
    command = [*image_command(), "--server", server]
    body = PROMO.read_bytes()
    with start_server(config, data, command=command, env=env) as running, running.client() as http:
        assert http.get("/readyz").text.strip() == "ready"
        assert http.put("/campaigns/new.png", content=body, headers=AUTH).status_code == 201
        assert http.get("/campaigns/new.png").content == body
        assert http.put("/x.png", content=body).status_code == 401  # the token is needed
