"""media-origin upload and media-origin sign against a real server."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import media as fx
from tests.helpers.servers import SIGNED_INVOICES_CONFIG, start_server

SCRIPT = Path(sys.executable).parent / "media-origin"
ENV = {"MEDIA_ORIGIN_TOKEN": "client-token", "MEDIA_ORIGIN_SIGNING_KEY": "client-key"}
CONFIG = SIGNED_INVOICES_CONFIG


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
        "--url",
        origin.url,
        "--config",
        str(origin.config),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # A folder's contents go under --to, keeping their layout; not its own name.
    assert [line.split("\t")[0] for line in lines] == [
        "/campaigns/a.jpg",
        "/campaigns/b.pdf",
        "/campaigns/deep/c.pdf",
    ]
    assert all("?v=" in line for line in lines)
    with origin.client() as http:
        assert http.get("/campaigns/deep/c.pdf").status_code == 200


def test_upload_reports_refusals_and_exits_1(origin, tmp_path):
    bad = tmp_path / "bad.jpg"
    fx.image(bad, size=(512, 512), fmt="WEBP")
    result = cli(
        "upload", str(bad), "--to", "/x", "--url", origin.url, "--config", str(origin.config)
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
        "--url",
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


def test_upload_server_url_still_works_with_one_deprecation_line(origin, tmp_path):
    """Issue 11, item 3: --server means the HTTP server (serve); the URL is --url.
    The old spelling works for one release and says so once."""
    doc = tmp_path / "a.pdf"
    fx.pdf(doc)
    result = cli(
        "upload", str(doc), "--to", "/x", "--server", origin.url, "--config", str(origin.config)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("/x/a.pdf\t")
    deprecations = [line for line in result.stderr.splitlines() if "deprecated" in line]
    assert deprecations == [
        "media-origin upload: warning: --server URL is deprecated, use --url URL "
        "(--server will mean only the HTTP server, as for serve)"
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--url", "localhost:8080"], "is not an http(s):// URL"),
        (["--url", "http://127.0.0.1:1", "--server", "http://127.0.0.1:2"], "once, with --url"),
    ],
)
def test_upload_bad_url_is_one_line(tmp_path, arguments, message):
    doc = tmp_path / "a.pdf"
    fx.pdf(doc)
    result = cli("upload", str(doc), "--to", "/x", *arguments)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_upload_a_folder_to_a_folder_of_its_name_does_not_nest(origin, tmp_path):
    """``upload batch --to /campaigns/batch`` once made /campaigns/batch/batch/…"""
    batch = tmp_path / "batch"
    (batch / "sub").mkdir(parents=True)
    fx.pdf(batch / "a.pdf")
    fx.pdf(batch / "sub" / "b.pdf")
    result = cli("upload", str(batch), "--to", "/campaigns/batch", "--url", origin.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == [
        "/campaigns/batch/a.pdf",
        "/campaigns/batch/sub/b.pdf",
    ]
    assert origin.stored() >= {"campaigns/batch/a.pdf", "campaigns/batch/sub/b.pdf"}


def test_upload_refuses_two_sources_for_one_stored_path(origin, tmp_path):
    """A file and a folder holding a file of the same name, both to /x: refused
    before anything is sent (one would replace the other)."""
    fx.pdf(tmp_path / "a.pdf")
    (tmp_path / "folder").mkdir()
    fx.pdf(tmp_path / "folder" / "a.pdf")
    fx.pdf(tmp_path / "folder" / "b.pdf")
    result = cli(
        "upload",
        str(tmp_path / "a.pdf"),
        str(tmp_path / "folder"),
        "--to",
        "/x",
        "--url",
        origin.url,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "would both be stored as /x/a.pdf" in line
    assert origin.stored() == set()


def test_upload_into_a_closed_pipe_finishes_quietly(origin, tmp_path):
    """``upload … | head``: no BrokenPipeError traceback, every upload finished,
    the usual exit status. The reader is gone before the first line is printed."""
    import os

    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(5):
        fx.pdf(folder / f"{number}.pdf")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [str(SCRIPT), "upload", str(folder), "--to", "/piped", "--url", origin.url],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, **ENV},
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert origin.stored() >= {f"piped/{number}.pdf" for number in range(5)}


def test_upload_piped_into_head_prints_one_line_and_stores_all(origin, tmp_path):
    import os

    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(5):
        fx.pdf(folder / f"{number}.pdf")
    shell = (
        f"'{SCRIPT}' upload '{folder}' --to /head --url {origin.url} | head -n 1; "
        'echo "status=${PIPESTATUS[0]}" >&2'
    )
    result = subprocess.run(
        ["bash", "-c", shell],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **ENV},
    )
    assert result.stdout.startswith("/head/0.pdf\t") and result.stdout.count("\n") == 1
    assert "status=0" in result.stderr and "Traceback" not in result.stderr
    assert origin.stored() >= {f"head/{number}.pdf" for number in range(5)}


def test_upload_refuses_an_over_limit_file_before_sending_it(origin, tmp_path):
    """A 6 MB JPEG is refused by the CLI itself, naming its size and the limit, and
    not a byte of it reaches the server."""
    big = tmp_path / "big.jpg"
    with big.open("wb") as file:
        file.truncate(6_000_000)
    fx.pdf(tmp_path / "fine.pdf")
    result = cli("upload", str(tmp_path / "fine.pdf"), str(big), "--to", "/x", "--url", origin.url)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line == (
        f"media-origin upload: {big} is 6 MB, over WhatsApp's limit for an image (.jpg), "
        "5 MB: make it smaller, e.g. convert big.jpg -resize '2048x2048>' -quality 85 "
        "big.jpg; or add --force to store it anyway (WhatsApp will refuse to send it)"
    )
    assert result.stdout == "" and origin.stored() == set()


def test_upload_force_still_stops_at_the_hard_limit(origin, tmp_path):
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as file:
        file.truncate(100_000_001)
    result = cli("upload", str(huge), "--to", "/x", "--url", origin.url, "--force")
    assert result.returncode == 2
    assert "is 100 MB, over the largest file the server stores, even with --force" in (
        result.stderr
    )
    assert origin.stored() == set()


WARNING = "warning: base_url http://127.0.0.1:8080 is a loopback address, which Meta cannot fetch"


def test_sign_and_upload_warn_once_about_a_loopback_base_url(origin, tmp_path):
    """Issue 11, item 5: a link to 127.0.0.1 works in a local browser and never on
    WhatsApp: said once, on stderr, with the fix; not an error."""
    signed = cli("sign", "/invoices/a.pdf", "--config", str(origin.config))
    assert signed.returncode == 0
    assert signed.stderr.count(WARNING) == 1 and "[server] base_url" in signed.stderr
    fx.pdf(tmp_path / "a.pdf")
    fx.pdf(tmp_path / "b.pdf")
    files = [str(tmp_path / "a.pdf"), str(tmp_path / "b.pdf")]
    uploaded = cli("upload", *files, "--to", "/x", "--url", origin.url)
    assert uploaded.returncode == 0
    # The links name the server's base_url (its config's default), not --url.
    assert uploaded.stderr.count(WARNING) == 1


def test_sign_with_a_public_base_url_does_not_warn(tmp_path):
    (tmp_path / "media").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG + '[server]\nbase_url = "https://media.example.com"\n')
    result = cli("sign", "/invoices/a.pdf", "--config", str(config))
    assert result.returncode == 0 and result.stdout.startswith("https://media.example.com/")
    assert result.stderr == ""


def test_serve_warns_once_about_a_loopback_base_url(origin):
    assert origin.stderr().count(WARNING) == 1


def test_upload_refuses_an_unreadable_file_before_sending_anything(origin, tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    fx.pdf(tmp_path / "a.pdf")
    locked = tmp_path / "b.pdf"
    fx.pdf(locked)
    locked.chmod(0)
    result = cli("upload", str(tmp_path / "a.pdf"), str(locked), "--to", "/x", "--url", origin.url)
    assert result.returncode == 2
    assert result.stderr == f"media-origin upload: {locked}: cannot read it: Permission denied\n"
    assert origin.stored() == set()
