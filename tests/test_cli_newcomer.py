"""The CLI as a newcomer meets it (issue 11): run from a folder that is not the
repository, asking for --help, installing completion."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import media as fx
from tests.helpers.servers import REPO, SIGNED_INVOICES_CONFIG, start_server

SCRIPT = Path(sys.executable).parent / "media-origin"
ENV = {"MEDIA_ORIGIN_TOKEN": "newcomer-token", "MEDIA_ORIGIN_SIGNING_KEY": "newcomer-key"}
CONFIG = SIGNED_INVOICES_CONFIG
COMMANDS = (
    "serve",
    "check",
    "convert",
    "explain",
    "upload",
    "sign",
    "completion",
    "whatsapp",
    "whatsapp upload",
    "whatsapp renew",
    "whatsapp message",
    "whatsapp failures",
)


@pytest.fixture
def origin(tmp_path):
    (tmp_path / "server" / "media").mkdir(parents=True)
    config = tmp_path / "server" / "config.toml"
    config.write_text(CONFIG)
    with start_server(config, tmp_path / "server" / "media", env=ENV) as server:
        yield server


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """An empty folder: no config.toml, no media/."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def run(*arguments: str, cwd: Path, env: dict[str, str] | None = None):
    environment = {**os.environ, **ENV}
    environment.pop("MEDIA_ORIGIN_CONFIG", None)
    environment.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


# Item 2: commands that act on a remote server need no config.


def test_explain_a_url_needs_no_config(origin, elsewhere):
    (origin.root / "a.pdf").write_bytes(b"%PDF-1.4 a")
    result = run("explain", f"{origin.url}/a.pdf", cwd=elsewhere)
    assert "config" not in result.stderr, result.stderr
    assert result.returncode in (0, 1)
    assert result.stdout.startswith(f"{origin.url}/a.pdf")


def test_upload_with_url_needs_no_config(origin, elsewhere):
    fx.pdf(elsewhere / "a.pdf")
    result = run("upload", "a.pdf", "--to", "/docs", "--url", origin.url, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("/docs/a.pdf\t")
    assert "docs/a.pdf" in origin.stored()


def test_sign_needs_no_config_with_the_key_in_the_environment(origin, elsewhere):
    (origin.root / "invoices").mkdir()
    fx.pdf(origin.root / "invoices" / "a.pdf")
    result = run("sign", "/invoices/a.pdf", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    query = result.stdout.strip().split("?", 1)[1]
    assert httpx.get(f"{origin.url}/invoices/a.pdf?{query}").status_code == 200


def test_sign_without_a_key_says_how_to_give_one(elsewhere):
    result = run("sign", "/invoices/a.pdf", cwd=elsewhere, env={"MEDIA_ORIGIN_SIGNING_KEY": ""})
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "no config was found" in line and "--config PATH" in line
    assert "MEDIA_ORIGIN_SIGNING_KEY" in line


@pytest.mark.parametrize("arguments", [["check", "a.jpg"], ["explain", "/a.jpg"], ["serve"]])
def test_storage_commands_say_where_they_looked_and_how_to_give_a_config(elsewhere, arguments):
    result = run(*arguments, cwd=elsewhere)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert f"no ./config.toml here ({elsewhere})" in line
    assert "--config PATH" in line and "MEDIA_ORIGIN_CONFIG=PATH" in line


def test_a_missing_config_from_the_environment_is_named_as_such(elsewhere):
    missing = elsewhere / "nope.toml"
    result = run("check", cwd=elsewhere, env={"MEDIA_ORIGIN_CONFIG": str(missing)})
    assert result.returncode == 2
    assert result.stderr == (
        f"media-origin check: $MEDIA_ORIGIN_CONFIG names {missing}, which does not exist: "
        "point it at a config file, or unset it\n"
    )


def test_a_given_config_is_still_read_by_client_commands(elsewhere):
    """A config that is there is the config: its mistakes are not skipped."""
    (elsewhere / "config.toml").write_text("[server]\nport = 'eighty'\n")
    (elsewhere / "media").mkdir()
    result = run(
        "upload", str(elsewhere), "--to", "/x", "--url", "http://127.0.0.1:9", cwd=elsewhere
    )
    assert result.returncode == 2 and "server.port" in result.stderr


# Item 4: help, completion, LICENSE.


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_description_and_examples(command, elsewhere):
    result = run(*command.split(), "--help", cwd=elsewhere)
    assert result.returncode == 0
    description = result.stdout.split("\n\n")[1]
    assert description and not description.startswith(("positional", "options"))
    examples = result.stdout.split("examples:\n", 1)[1]
    assert f"media-origin {command}" in examples


def test_bash_completion_completes_commands_options_and_choices(elsewhere):
    script = run("completion", "bash", cwd=elsewhere)
    assert script.returncode == 0 and script.stdout.endswith("\n")

    def complete(*words: str) -> list[str]:
        quoted = " ".join(f"'{word}'" for word in words)
        probe = (
            f"{script.stdout}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
            '_media_origin; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(
            ["bash", "-c", probe], cwd=elsewhere, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("media-origin", "up") == ["upload"]
    assert complete("media-origin", "serve", "--s") == ["--server"]
    assert complete("media-origin", "serve", "--server", "") == ["granian", "uvicorn"]
    assert "--url" in complete("media-origin", "upload", "--")
    assert "--server" not in complete("media-origin", "upload", "--")  # deprecated: hidden
    (elsewhere / "photo.jpg").write_bytes(b"")
    assert complete("media-origin", "upload", "pho") == ["photo.jpg"]
    assert complete("media-origin", "whatsapp", "re") == ["renew"]
    assert "--older-than" in complete("media-origin", "whatsapp", "renew", "--")
    assert complete("media-origin", "whatsapp", "message", "--by", "") == ["id", "link"]


def test_zsh_completion_uses_the_bash_one_through_bashcompinit(elsewhere):
    script = run("completion", "zsh", cwd=elsewhere)
    assert script.returncode == 0
    assert "bashcompinit" in script.stdout and "complete -o filenames -F _media_origin" in (
        script.stdout
    )
    assert subprocess.run(["bash", "-n"], input=script.stdout, text=True).returncode == 0


def test_a_license_file_says_what_pyproject_says():
    text = (REPO / "LICENSE").read_text()
    assert 'license = { text = "MIT" }' in (REPO / "pyproject.toml").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the media-origin authors" in text


def test_json_answers_end_with_a_newline(origin, elsewhere):
    (origin.root / "a.pdf").write_bytes(b"%PDF-1.4 a")
    result = run("explain", "--json", f"{origin.url}/a.pdf", cwd=elsewhere)
    assert result.stdout.endswith("}\n")
    checked = run("check", "--json", "--config", str(origin.config), cwd=elsewhere)
    assert checked.stdout.endswith("]\n")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["upload", "--to", "/x"], "media-origin upload: the following arguments are required"),
        (["serve", "--port", "x"], "media-origin serve: argument --port: 'x' is not a port"),
        (["bogus"], "media-origin: argument COMMAND: invalid choice: 'bogus'"),
        (["upload", "a", "--to", "/x", "--url", "http://[::1"], "is not an http(s):// URL"),
    ],
)
def test_a_bad_command_line_is_one_line_that_points_at_help(arguments, message, elsewhere):
    result = run(*arguments, cwd=elsewhere)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert message in line and line.endswith("--help')")


def test_check_of_files_on_disk_needs_no_config(tmp_path):
    """A sticker made on the fly, checked from a folder with no config and no ./media."""
    from PIL import Image

    Image.new("RGBA", (300, 300), (37, 211, 102, 255)).save(tmp_path / "wave.webp")
    result = subprocess.run(
        [sys.executable, "-m", "origin", "check", "wave.webp"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "sticker_dimensions" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 file checked: 0 ok, 0 warn, 1 reject"
