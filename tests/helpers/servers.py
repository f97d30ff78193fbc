"""The real server in a subprocess (``python -m origin serve``), bound to 127.0.0.1
on a free port and talked to over real sockets; the trees and configs it serves."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.helpers.s3 import Bucket

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 15


# Without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH a root process obeys file
# permissions (tests run as root; the interpreter lives under /root, 0700, so
# "run it as nobody" is not possible): the way to make a file unreadable to it.
WITHOUT_DAC = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search")

# The config of the client-command tests: a signed folder, its key and the token.
SIGNED_INVOICES_CONFIG = """[storage]
root = "media"
[api]
signing_key_env = "MEDIA_ORIGIN_SIGNING_KEY"
[policy."/invoices"]
cache_control = "private, no-store"
signed = true
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    root: Path
    config: Path
    bucket: Bucket | None = None  # the S3 backend's bucket, else files live in root
    output: Any = None  # the server's stdout and stderr, as files
    errors: Any = None
    spool: Path | None = None  # the server's TMPDIR

    def stdout(self) -> str:
        self.output.seek(0)
        return self.output.read().decode("utf-8", "replace")

    def stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read().decode("utf-8", "replace")

    def access_log(self) -> list[dict]:
        """The JSON access-log lines written so far."""
        return [json.loads(line) for line in self.stdout().splitlines() if line.startswith("{")]

    def stored(self) -> set[str]:
        """Every stored file, and every upload left behind, by relative path."""
        if self.bucket is not None:
            spool = self.spool or Path(tempfile.gettempdir())
            return self.bucket.keys() | {p.name for p in spool.glob("media-origin-*.part")}
        return {
            str(path.relative_to(self.root))
            for path in self.root.rglob("*")
            if path.is_file()
            and ".media-origin/hashes" not in str(path)
            and not path.name.endswith(".lock")
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def raw(self, request: bytes) -> bytes:
        """Send bytes exactly as given (no URL normalisation) and read the reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def raw_get(self, target: str, method: str = "GET") -> tuple[int, bytes]:
        reply = self.raw(
            f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        status = int(reply.split(b" ", 2)[1])
        return status, reply.partition(b"\r\n\r\n")[2]

    def rss_kib(self) -> int:
        """Resident memory of the server and its workers (granian serves in a child)."""
        total = 0
        for pid in process_tree(self.process.pid):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the server and every process it started (by PID): a granian worker
        stuck in a system call must not outlive the test as an orphan."""
        tree = process_tree(self.process.pid) if self.process.poll() is None else []
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in tree[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for file in (self.output, self.errors):
            if file is not None:
                file.close()


def process_tree(pid: int) -> list[int]:
    found = [pid]
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found += process_tree(int(child))
    return found


def start_server(
    config: Path,
    root: Path,
    *,
    extra_args: tuple[str, ...] = (),
    command: list[str] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    server: str = "uvicorn",
    new_session: bool = False,
) -> RunningServer:
    """Start the server and wait until a worker answers /healthz (granian binds its
    socket before its workers start). ``new_session``: the server leads a process
    group of its own, so a test can signal the group as a shell would."""
    port = free_port()
    # A temporary folder of its own (S3 uploads spool there): stored() looks for
    # uploads left behind in it, which the global one would mix with other tests'.
    env = dict(env or {})
    spool = Path(
        env.setdefault("TMPDIR", tempfile.mkdtemp(prefix="server-tmp-", dir=config.parent))
    )
    argv = command or [
        *(sys.executable, "-m", "origin", "serve", "--config", str(config), "--server", server)
    ]
    argv = [*argv, "--host", "127.0.0.1", "--port", str(port), *extra_args]
    process = subprocess.Popen(
        argv,
        cwd=cwd or REPO,
        env={**os.environ, **env},
        start_new_session=new_session,
        # Files, not pipes: a pipe nobody reads fills up and blocks the access log.
        stdout=(output := tempfile.TemporaryFile()),  # noqa: SIM115 - closed by stop()
        stderr=(errors := tempfile.TemporaryFile()),  # noqa: SIM115
    )
    server = RunningServer(process, port, root, config, output=output, errors=errors, spool=spool)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {server.stderr()}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{server.url}/healthz", timeout=1)
            return server
        time.sleep(0.05)
    server.stop()
    raise RuntimeError("server did not start in time")


def write_config(
    directory: Path, body: str, root: str = "media", bucket: Bucket | None = None
) -> Path:
    config = directory / "config.toml"
    storage = f'[storage]\nroot = "{root}"\n' if bucket is None else bucket.storage_table()
    config.write_text(storage + "\n" + textwrap.dedent(body))
    return config


def write_files(root: Path, files: dict[str, bytes | str]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        target.write_bytes(content)


# The whole conformance suite runs under each HTTP server the CLI offers, and
# the read-only part of it (standard_server) and the upload API over each backend.
SERVERS = ("uvicorn", "granian")
SETUPS = (("uvicorn", "filesystem"), ("granian", "filesystem"), ("granian", "s3"))
SETUP_IDS = [f"{server}-{backend}" for server, backend in SETUPS]


def start_setup(
    tmp_path: Path, request: pytest.FixtureRequest, config_body: str, env: dict[str, str]
) -> RunningServer:
    """A server for one of SETUPS (``request.param``): a fresh root, or a fresh bucket."""
    from tests.helpers.s3 import new_bucket  # s3 imports this module

    server_name, backend = request.param
    root = tmp_path / "media"
    root.mkdir()
    bucket = new_bucket(request.getfixturevalue("s3_endpoint")) if backend == "s3" else None
    config = write_config(tmp_path, config_body, bucket=bucket)
    server = start_server(config, root, server=server_name, env=env)
    server.bucket = bucket
    return server


STANDARD_CONFIG = """
[policy."/"]
cache_control = "max-age=86400"

[policy."/campaigns"]
cache_control = "max-age=604800, immutable"
cdn_cache_control = "max-age=3600"

[policy."/catalog"]
cache_control = "no-cache"

[policy."/invoices"]
cache_control = "private, no-store"
etag = "off"
content_disposition = "attachment"

[policy."/weak"]
etag = "weak"

[policy."/bare"]
cache_control = ""
last_modified = false
etag = "off"
"""

# 256 distinct byte values, repeated: every offset's byte is known (offset % 256).
PATTERN = bytes(range(256)) * 400  # 102,400 bytes

STANDARD_FILES: dict[str, bytes | str] = {
    "hello.txt": "hello, world\n",
    "pattern.bin": PATTERN,
    "campaigns/promo.jpg": b"\xff\xd8\xff\xe0fake-jpeg" + b"\x00" * 100,
    "campaigns/2026/black-friday.mp4": b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 200,
    "catalog/price-list.pdf": b"%PDF-1.4 fake",
    "invoices/INV 0001 é.pdf": b"%PDF-1.4 invoice",
    "weak/note.txt": "weak etag",
    "bare/file.txt": "no headers",
    "audio/voice.ogg": b"OggS fake",
    "video/clip.3gp": b"3gp fake",
    "stickers/hi.webp": b"RIFF fake WEBP",
    "audio/track.m4a": b"m4a fake",
    "docs/sheet.xlsx": b"PK fake",
    "docs/data.json": "{}",
    "docs/unknown.zzz": "?",
    "empty.txt": "",
    ".secret": "hidden",
    ".git/config": "hidden too",
    "folder/.hidden.jpg": "hidden",
}
