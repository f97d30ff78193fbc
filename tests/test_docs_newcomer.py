"""The newcomer's path, as a test: clone the repository to a temporary folder,
create a virtual environment, run the install of the README's first command and
``media-origin serve``, then run every README code block marked as runnable
from **another** folder, and compare what it prints with the README where the
README shows it.

A block is runnable when the line above its opening fence is
``<!-- runnable -->``. A shown output is a fence right after it whose first line
is ``$ COMMAND``: that command's output is compared with the rest of the fence,
after the parts that change from run to run (dates, hashes, times, the port)
are blanked on both sides. The server runs on a free port: ``8080`` in the
blocks is changed to it, and nothing else is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from tests.helpers.servers import REPO, start_server

README = (REPO / "README.md").read_text()
MARK = "<!-- runnable -->"
INSTALL_SECONDS = 600


@dataclass(frozen=True)
class Block:
    """A runnable README block and the output the README shows for it, if any."""

    line: int
    script: str
    shown: list[tuple[str, str]]  # (command, output) pairs shown after it


def runnable_blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    blocks = []
    for number, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        start = number + 1
        assert lines[start].startswith("```"), f"README line {start + 1}: {MARK} before no fence"
        end = lines.index("```", start + 1)
        script = "\n".join(lines[start + 1 : end])
        shown = []
        after = end + 1
        while after < len(lines) and not lines[after].strip():
            after += 1
        if after < len(lines) and lines[after] == "```" and lines[after + 1].startswith("$ "):
            close = lines.index("```", after + 1)
            command = lines[after + 1][2:]
            shown.append((command, "\n".join(lines[after + 2 : close])))
        blocks.append(Block(start + 1, script, shown))
    return blocks


_VARYING = [
    (re.compile(r"x-request-id: \S+", re.IGNORECASE), "x-request-id: <id>"),
    (re.compile(r"[0-9a-f]{32}"), "<hash>"),
    (re.compile(r"[0-9a-f]{12}\b"), "<short-hash>"),
    (re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "<date>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"expires=\d+&sig=[0-9a-f]+"), "expires=<expires>&sig=<sig>"),
]


def normalise(text: str) -> str:
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_the_readme_marks_runnable_blocks_and_shows_outputs():
    blocks = runnable_blocks(README)
    assert len(blocks) >= 3
    assert any(block.shown for block in blocks)


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory):
    """A fresh clone with the README's install done, serving as the README says."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to clone the repository")
    home = tmp_path_factory.mktemp("newcomer")
    clone = home / "media-origin"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=120)
    serve_command = re.findall(r"```sh\n(.+?)\n```", README)[0]
    install = serve_command.removesuffix(" && media-origin serve")
    assert install != serve_command, "the first command ends with media-origin serve"
    installed = subprocess.run(
        ["bash", "-c", install],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        env={**os.environ, "VIRTUAL_ENV": "", "PYTHONPATH": ""},
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    bin_dir = clone / ".venv" / "bin"
    server = start_server(
        clone / "config.toml",
        clone / "media",
        command=[str(bin_dir / "media-origin"), "serve"],
        cwd=clone,
        env={"MEDIA_ORIGIN_TOKEN": "change-me"},  # as the upload example says
    )
    with server:
        elsewhere = home / "elsewhere"
        elsewhere.mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "MEDIA_ORIGIN_TOKEN": "change-me",
            "HOME": str(home),
        }
        yield elsewhere, server.port, env


BLOCKS = runnable_blocks(README)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"README-line-{b.line}" for b in BLOCKS])
def test_a_runnable_readme_block_works_from_another_folder(newcomer, block):
    elsewhere, port, env = newcomer
    script = block.script.replace("8080", str(port))
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, f"README line {block.line}:\n{ran.stdout}\n{ran.stderr}"
    assert "Traceback" not in ran.stderr
    for command, shown in block.shown:
        shown_run = subprocess.run(
            ["bash", "-c", command.replace("8080", str(port))],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert normalise(shown_run.stdout) == normalise(shown), (
            f"README line {block.line}: `{command}` printed\n{shown_run.stdout}"
        )
