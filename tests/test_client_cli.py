"""media-origin upload and media-origin sign against a real server."""

import subprocess
import sys
from pathlib import Path

import httpx
import media_fixtures as fx
import pytest

from conftest import start_server

SCRIPT = Path(sys.executable).parent / "media-origin"
ENV = {"MEDIA_ORIGIN_TOKEN": "client-token", "MEDIA_ORIGIN_SIGNING_KEY": "client-key"}
CONFIG = """[storage]
root = "media"
[api]
signing_key_env = "MEDIA_ORIGIN_SIGNING_KEY"
[policy."/invoices"]
cache_control = "private, no-store"
signed = true
"""


@pytest.fixture
def origin(tmp_path):
    (tmp_path / "media").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    with start_server(config, tmp_path / "media", env=ENV) as server:
        yield server


def cli(*arguments, env=ENV):
    import os

    return subprocess.run(
        [str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_upload_files_and_a_folder(origin, tmp_path):
    local = tmp_path / "local"
    (local / "set" / "deep").mkdir(parents=True)
    fx.image(local / "a.jpg", fmt="JPEG")
    fx.pdf(local / "set" / "b.pdf")
    fx.pdf(local / "set" / "deep" / "c.pdf")
    (local / "set" / ".DS_Store").write_text("skipped")
    result = cli(
        "upload",
        str(local / "a.jpg"),
        str(local / "set"),
        "--to",
        "/campaigns",
        "--server",
        origin.url,
        "--config",
        str(origin.config),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "/campaigns/a.jpg",
        "/campaigns/set/b.pdf",
        "/campaigns/set/deep/c.pdf",
    ]
    assert all("?v=" in line for line in lines)
    with origin.client() as http:
        assert http.get("/campaigns/set/deep/c.pdf").status_code == 200


def test_upload_reports_refusals_and_exits_1(origin, tmp_path):
    bad = tmp_path / "bad.jpg"
    fx.image(bad, size=(512, 512), fmt="WEBP")
    result = cli(
        "upload", str(bad), "--to", "/x", "--server", origin.url, "--config", str(origin.config)
    )
    assert result.returncode == 1
    assert "refused (415)" in result.stdout


def test_upload_without_a_token(origin, tmp_path):
    result = cli(
        "upload",
        str(tmp_path),
        "--to",
        "/x",
        "--config",
        str(origin.config),
        env={"MEDIA_ORIGIN_TOKEN": "", "MEDIA_ORIGIN_SIGNING_KEY": "k"},
    )
    assert result.returncode == 2
    assert "set MEDIA_ORIGIN_TOKEN" in result.stderr


def test_upload_into_a_signed_folder_prints_the_signed_link(origin, tmp_path):
    invoice = tmp_path / "INV-9.pdf"
    fx.pdf(invoice)
    result = cli(
        "upload",
        str(invoice),
        "--to",
        "/invoices",
        "--server",
        origin.url,
        "--config",
        str(origin.config),
    )
    link = result.stdout.split("\t")[1].strip()
    assert "sig=" in link and "expires=" in link


def test_sign_makes_a_link_the_server_accepts(origin, tmp_path):
    fx.pdf(origin.root / "invoices" / "a.pdf") if (
        origin.root / "invoices"
    ).mkdir() is None else None
    result = cli("sign", "/invoices/a.pdf", "--ttl", "10m", "--config", str(origin.config))
    assert result.returncode == 0
    url = result.stdout.strip()
    query = url.split("?", 1)[1]
    assert httpx.get(f"{origin.url}/invoices/a.pdf?{query}").status_code == 200
    assert httpx.get(f"{origin.url}/invoices/a.pdf").status_code == 403


@pytest.mark.parametrize("ttl", ["0", "1y", "soon", "5 m"])
def test_sign_refuses_a_bad_ttl(origin, ttl):
    result = cli("sign", "/invoices/a.pdf", "--ttl", ttl, "--config", str(origin.config))
    assert result.returncode == 2
    assert "is not a duration" in result.stderr
