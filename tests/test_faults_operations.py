"""Concurrency and fault suite: operations.

Part of the concurrency and fault test suite (``tests/test_faults_*.py``): each
test reproduces a way a promise broke when the server was run the way production
runs it, and shows it kept now. The promises here: SIGHUP reloads, whoever sends
it (a process group, as a terminal, ``kill -HUP -PGID`` or a supervisor does) and
however often, and never stops the server; ``storage.timeout`` bounds a whole
store call, retries included, so a hung or stalling store is a 504 (or a cut
body) after about that long, never a hang; ``/readyz`` says ready only when the
storage can actually be read.

Every loop is bounded in count and in time; every socket is on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.helpers.s3 import CREDENTIALS, Bucket, new_bucket
from tests.helpers.servers import SERVERS, WITHOUT_DAC, RunningServer, start_server, write_config

TOKEN = "ops-fault-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENV = {"OPS_FAULT_TOKEN": TOKEN}

# --- SIGHUP -----------------------------------------------------------------

GOOD = '[policy."/"]\ncache_control = "max-age={age}"\n'
BAD = '[policy."/"]\ncache_control = "max_age=1"\n'  # a typo config.toml refuses
BURST = 12  # SIGHUPs in the burst test
BURST_GAP = 0.05  # seconds between two of them: far quicker than a respawn
SETTLE_SECONDS = 40.0  # bound on the wait for the last good config to be served
SETTLED_ANSWERS = 8  # answers in a row that must all show it
# Past granian's respawn interval (3.5 s per worker): every respawn a signal set off
# has had time to spawn, and to fail, before the server is declared alive.
QUIET_SECONDS = 8.0
PROBE_GAP = 0.1  # seconds between the probes that watch the server keep answering
WATCH_LIMIT = 60.0  # the probes stop after this long whatever happens
# After a SIGHUP, long enough for the server to have read the file (a signal handler,
# milliseconds), far shorter than a respawn of one worker, let alone two.
BROKEN_AGAIN_AFTER = 0.3

# --- storage timeout ----------------------------------------------------------

STORE_TIMEOUT = 1.0  # storage.timeout in these tests
# What the answer may take beyond the timeout: the request itself and a loaded,
# shared 2-core machine. Retries (another full timeout each) do not fit in it.
SLACK = 0.9
STALL_LIMIT = 30.0  # a stalled store is released at teardown, or after this long
EXIT_SECONDS = 5.0  # a SIGTERM'd server with nothing in flight exits within this
TRICKLE_GAP = 0.25  # seconds between two bytes of a trickle: well inside a read timeout
# Past the in-memory small-body size, so streamed in 256 KiB chunks; the store
# stalls after half of it, so the response has started when the stall comes.
LARGE = 1024 * 1024


# --- helpers: a server in its own process group -------------------------------


def serve_in_own_group(
    config: Path, root: Path, server: str, workers: int, env: dict[str, str] | None = None
) -> RunningServer:
    """``media-origin serve`` as the leader of a new process group, so that a signal
    can be sent to the group (the server and its workers), as a shell or a process
    manager sends it. Returned once a worker answers /healthz, not merely once the
    port accepts: granian binds the socket before its workers start."""
    return start_server(
        config,
        root,
        server=server,
        extra_args=("--workers", str(workers)),
        env=env,
        new_session=True,
    )


def stop_group(running: RunningServer) -> None:
    """Stop the server; then make sure nothing of its group (a worker it left) survives."""
    running.stop()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.process.pid, signal.SIGKILL)


class Watch:
    """Probes the server from a thread while signals fly: every probe must be answered
    with a 200 (no refused connection, no reset), and the server must not exit."""

    def __init__(self, running: RunningServer, path: str) -> None:
        self.running = running
        self.path = path
        self.failures: list[str] = []
        self.probes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _probe(self) -> None:
        deadline = time.monotonic() + WATCH_LIMIT
        with httpx.Client(base_url=self.running.url, timeout=5) as http:
            while not self._stop.wait(PROBE_GAP) and time.monotonic() < deadline:
                self.probes += 1
                exit_status = self.running.process.poll()
                if exit_status is not None:
                    self.failures.append(f"the server exited with {exit_status}")
                    return
                try:
                    status = self._get(http)
                except httpx.HTTPError as error:
                    self.failures.append(f"{type(error).__name__}: {error}")
                else:
                    if status != 200:
                        self.failures.append(f"status {status}")

    def _get(self, http: httpx.Client) -> int:
        """A probe's status. A kept-alive connection that a stopping worker closes
        just as the probe is sent on it is closed without an answer: HTTP/1.1
        lets a client send an idempotent request again (RFC 9112, 9.3.1), and
        every real client does, once, on a new connection; that one must answer."""
        try:
            return http.get(self.path).status_code
        except httpx.RemoteProtocolError:
            return httpx.get(self.running.url + self.path, timeout=5).status_code


def served_cache_control(running: RunningServer, path: str) -> str:
    """The Cache-Control of a fresh connection's answer (a new worker may take it)."""
    return httpx.get(running.url + path, timeout=5).headers["cache-control"]


def settled_cache_control(running: RunningServer, path: str, expected: str) -> list[str]:
    """The last SETTLED_ANSWERS Cache-Controls of fresh connections, once they all are
    ``expected`` or at the bound: with two workers, by the odds, both have answered,
    so a worker left on an older config shows."""
    deadline = time.monotonic() + SETTLE_SECONDS
    answers = deque([served_cache_control(running, path)], maxlen=SETTLED_ANSWERS)
    while answers.count(expected) < SETTLED_ANSWERS and time.monotonic() < deadline:
        time.sleep(0.1)
        answers.append(served_cache_control(running, path))
    return list(answers)


@pytest.fixture(params=[(s, w) for s in SERVERS for w in (1, 2)], ids=lambda p: f"{p[0]}-{p[1]}")
def grouped(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """A server (granian or uvicorn, one worker or two) leading its own process group,
    serving /a.txt with max-age=60."""
    server, workers = request.param
    root = tmp_path / "media"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    config = write_config(tmp_path, GOOD.format(age=60))
    running = serve_in_own_group(config, root, server, workers)
    try:
        yield running
    finally:
        stop_group(running)


def edit(config: Path, body: str) -> None:
    """Save the file as most editors and deploy tools do: replaced whole, by a rename,
    so that a reader sees the old file or the new one (what a reader makes of a
    half-written file is another matter)."""
    drafts = config.parent / "drafts"  # same filesystem: the rename is atomic
    drafts.mkdir(exist_ok=True)
    os.replace(write_config(drafts, body), config)


def hup_group(running: RunningServer) -> None:
    os.killpg(running.process.pid, signal.SIGHUP)


def test_sighup_to_the_group_a_bad_config_then_a_second_never_stops_the_server(grouped):
    """A bad config and its SIGHUP, then within a second a fixed one and its SIGHUP,
    and the file broken again a moment later, while granian is still respawning
    (an operator still typing), and a third SIGHUP: the server keeps answering,
    serves the config that loaded and refuses the rest. It exited 1 under granian:
    each worker read the file again when respawned, 3.5 s apart, and one that found
    it broken failed to start, which ends the whole server."""
    running, config = grouped, grouped.config
    with Watch(running, "/a.txt") as watch:
        edit(config, BAD)
        hup_group(running)
        time.sleep(1.0)
        edit(config, GOOD.format(age=61))
        hup_group(running)
        time.sleep(BROKEN_AGAIN_AFTER)
        edit(config, BAD)  # broken again while the respawn is under way
        time.sleep(1.0)
        hup_group(running)
        time.sleep(QUIET_SECONDS)
    assert watch.failures == [], watch.failures[:5]
    assert watch.probes > QUIET_SECONDS / PROBE_GAP / 4
    settled = settled_cache_control(running, "/a.txt", "max-age=61")
    assert settled == ["max-age=61"] * SETTLED_ANSWERS
    assert running.process.poll() is None
    assert "reload refused" in running.stderr()


def test_a_burst_of_sighups_to_the_group_never_stops_the_server(grouped):
    """A dozen SIGHUPs to the group 50 ms apart, the file alternately broken and fixed
    between them, a last good one signalled, then the file left broken: the server
    keeps answering throughout and ends on the last good config signalled. Under
    granian the signals that came during a respawn set off one more respawn, 3.5 s
    on, whose workers read the file again, found it broken and failed: exit 1."""
    running, config = grouped, grouped.config
    with Watch(running, "/a.txt") as watch:
        for number in range(BURST):
            edit(config, BAD if number % 2 else GOOD.format(age=100 + number))
            hup_group(running)
            time.sleep(BURST_GAP)
        edit(config, GOOD.format(age=200))
        hup_group(running)
        time.sleep(BROKEN_AGAIN_AFTER)
        edit(config, BAD)  # left broken for the next reload; no signal this time
        time.sleep(QUIET_SECONDS)
    assert watch.failures == [], watch.failures[:5]
    settled = settled_cache_control(running, "/a.txt", "max-age=200")
    assert settled == ["max-age=200"] * SETTLED_ANSWERS
    assert running.process.poll() is None


# --- helpers: stores that hang, stall or refuse ------------------------------


class HungStore:
    """A TCP server on loopback that accepts every connection and never answers a
    byte: a store that hangs (a dead NAT, a wedged proxy). Real sockets, no mock:
    the S3 client connects, sends its request and waits."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        deadline = time.monotonic() + STALL_LIMIT * 4
        while not self._stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError, OSError):
                connection, _ = self.listener.accept()
                self.accepted.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in [*self.accepted, self.listener]:
            connection.close()


Rule = Callable[[str, str], str | None]
"""(method, key) -> what the store does with that request (key: the object's key,
"" for a request on the bucket itself): None to answer it,
"stall" to hang before answering, "trickle" to send the answer's head and the
first half of its body, then a byte now and then, "deny" to answer 403 AccessDenied."""


class StallingStore(ThreadingHTTPServer):
    """A loopback HTTP proxy in front of moto's S3 server that answers each request
    as moto does, except those ``rule`` picks: those it stalls (before answering,
    or after the head and the first bytes of the body) or refuses with a 403. A
    real store that misbehaves, over real sockets, for the S3 client in the server
    under test."""

    daemon_threads = True

    def __init__(self, upstream: str, rule: Rule) -> None:
        super().__init__(("127.0.0.1", 0), _Relay)
        self.upstream = upstream.removeprefix("http://")
        self.rule = rule
        self.released = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.released.set()  # stalled handlers end, their connections close
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as S3 is; Expect: 100-continue handled
    server: StallingStore

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reports what matters."""

    def _relay(self) -> None:
        key = self.path.split("?", 1)[0].lstrip("/").partition("/")[2]  # path-style URLs
        verdict = self.server.rule(self.command, key)
        body = self._request_body()
        if verdict == "stall":
            self.server.released.wait(STALL_LIMIT)
            self.close_connection = True
            return
        if verdict == "deny":
            self._send(403, [("Content-Type", "application/xml")], _ACCESS_DENIED)
            return
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=STALL_LIMIT)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            kept = [
                (k, v)
                for k, v in answer.getheaders()
                if k.lower() not in ("transfer-encoding", "connection", "content-length")
            ]
            length = answer.getheader("content-length") if self.command == "HEAD" else None
        finally:
            upstream.close()
        if verdict == "trickle" and len(data) > 1:
            self._trickle(answer.status, kept, data)
            return
        self._send(answer.status, kept, data, length=length)

    def _trickle(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        """The head and half the body, then a byte every TRICKLE_GAP seconds, never
        the last one: the store never goes quiet for a read timeout, and never ends."""
        half = len(data) // 2
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client gave up and closed: done
            self._send(status, headers, data[:half], length=len(data))
            deadline = time.monotonic() + STALL_LIMIT
            for byte in data[half:-1]:
                if self.server.released.wait(TRICKLE_GAP) or time.monotonic() > deadline:
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            self.server.released.wait(max(0.0, deadline - time.monotonic()))

    def _request_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raw = b""
            while True:
                size_line = self.rfile.readline()
                raw += size_line
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                chunk = self.rfile.read(size + 2) if size else b""
                raw += chunk
                if size == 0:
                    while (trailer := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                        raw += trailer
                    return raw + b"\r\n"
        return self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))

    def _send(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        length: int | str | None = None,
    ) -> None:
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _relay


_ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message></Error>"
)


def s3_table(bucket: str, endpoint: str, timeout: float = STORE_TIMEOUT) -> str:
    return (
        f'[storage]\nbackend = "s3"\nbucket = "{bucket}"\nendpoint_url = "{endpoint}"\n'
        f'region = "us-east-1"\nmetadata_ttl = 0\ntimeout = {timeout}\n\n'
        '[api]\ntoken_env = "OPS_FAULT_TOKEN"\n'
    )


def serve_s3(tmp_path: Path, bucket: str, endpoint: str, server: str) -> RunningServer:
    config = tmp_path / "config.toml"
    config.write_text(s3_table(bucket, endpoint))
    # No s3_endpoint fixture here: the test credentials are given to this server itself.
    return start_server(config, tmp_path, env={**ENV, **CREDENTIALS}, server=server)


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


# A PDF the upload rules take: a document of a few bytes.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.mark.parametrize("server", SERVERS)
def test_a_hung_store_is_answered_within_the_timeout(tmp_path, server):
    """A store that accepts and never answers: GET, HEAD and PUT get their 504 and
    /readyz its 503 after about ``storage.timeout`` seconds. They took several
    timeouts: botocore gave each retry a full read timeout of its own."""
    store = HungStore()
    try:
        with (
            serve_s3(tmp_path, "hung-bucket", store.url, server) as running,
            httpx.Client(base_url=running.url, timeout=60) as http,
        ):
            answers = {
                "GET": timed(lambda: http.get("/a.pdf")),
                "HEAD": timed(lambda: http.head("/a.pdf")),
                "PUT": timed(lambda: http.put("/docs/new.pdf", content=PDF, headers=AUTH)),
                "/readyz": timed(lambda: http.get("/readyz")),
            }
            assert http.get("/healthz").status_code == 200  # the process is fine
    finally:
        store.close()
    statuses = {what: response.status_code for what, (response, _) in answers.items()}
    assert statuses == {"GET": 504, "HEAD": 504, "PUT": 504, "/readyz": 503}
    took = {what: round(seconds, 2) for what, (_, seconds) in answers.items()}
    assert all(seconds < STORE_TIMEOUT + SLACK for seconds in took.values()), took


def test_an_s3_store_without_credentials_is_a_503_that_says_what_to_set(tmp_path):
    """Credentials forgotten: each request a 503 naming what to set (and a log line),
    never a 500 with a traceback, and /readyz not ready."""
    store = HungStore()  # never reached: the request cannot be signed
    nowhere = str(tmp_path / "absent")
    no_credentials = {
        **ENV,
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_CONFIG_FILE": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",  # and no instance-metadata lookup off loopback
    }
    config = tmp_path / "config.toml"
    config.write_text(s3_table("no-credentials", store.url))
    try:
        with (
            start_server(config, tmp_path, env=no_credentials, server="granian") as running,
            httpx.Client(base_url=running.url, timeout=30) as http,
        ):
            got = http.get("/a.pdf")
            ready = http.get("/readyz")
            put = http.put("/docs/new.pdf", content=PDF, headers=AUTH)
            time.sleep(0.5)
            log = running.stderr()
    finally:
        store.close()
    assert (got.status_code, ready.status_code, put.status_code) == (503, 503, 503)
    assert put.json()["error"] == "storage_unavailable"
    assert "no credentials for the S3 store" in log and "Traceback" not in log


@pytest.fixture
def stalling(s3_endpoint) -> Iterator[Callable[[Rule], tuple[StallingStore, Bucket]]]:
    """``stalling(rule)``: a fresh bucket on moto, reached through a StallingStore."""
    stores: list[StallingStore] = []

    def _make(rule: Rule) -> tuple[StallingStore, Bucket]:
        bucket = new_bucket(s3_endpoint)
        store = StallingStore(s3_endpoint.url, rule)
        stores.append(store)
        return store, bucket

    yield _make
    for store in stores:
        store.close()


@pytest.mark.parametrize("server", SERVERS)
def test_a_stalled_body_is_given_up_within_the_timeout(tmp_path, server, stalling):
    """The store answers the GET's head and half the body, then trickles a byte every
    quarter second and never ends: botocore's read timeout, which is per socket
    read, never fires. A small file (read whole before the headers go out) is a 504
    after about the timeout; a large one (streamed, the response under way) is cut
    after about the timeout, never served short as if complete. Both were held for
    as long as the store kept trickling."""
    store, bucket = stalling(lambda method, key: "trickle" if method == "GET" and key else None)
    bucket.put("small.pdf", PDF)
    large = os.urandom(LARGE)
    bucket.put("large.mp4", large)
    with (
        serve_s3(tmp_path, bucket.name, store.url, server) as running,
        httpx.Client(base_url=running.url, timeout=60) as http,
    ):
        small, small_seconds = timed(lambda: http.get("/small.pdf"))
        started = time.monotonic()
        received = b""
        cut = False
        try:
            with http.stream("GET", "/large.mp4") as streamed:
                assert streamed.status_code == 200
                for chunk in streamed.iter_raw():
                    received += chunk
        except httpx.HTTPError:
            cut = True
        large_seconds = time.monotonic() - started
        # The store still trickles: the pool threads of the reads given up must not
        # hold the server's exit (the interpreter waits for them).
        stopping = time.monotonic()
        running.process.terminate()
        exit_status = running.process.wait(timeout=STALL_LIMIT)
        exit_seconds = time.monotonic() - stopping
    assert small.status_code == 504 and "retry-after" in small.headers
    assert small_seconds < STORE_TIMEOUT + SLACK, small_seconds
    assert cut and LARGE // 2 <= len(received) < LARGE
    # The stall begins at half the body, after the first chunks went out quickly.
    assert large_seconds < STORE_TIMEOUT + SLACK, large_seconds
    assert (exit_status, exit_seconds < EXIT_SECONDS) == (0, True), exit_seconds


@pytest.mark.parametrize("server", SERVERS)
def test_a_stalled_upload_is_answered_within_the_timeout(tmp_path, server, stalling):
    """The store answers reads but stalls every PUT: the upload is a 504 after about
    the timeout, not after the S3 client's retries, and nothing is stored."""
    store, bucket = stalling(lambda method, key: "stall" if method == "PUT" else None)
    with (
        serve_s3(tmp_path, bucket.name, store.url, server) as running,
        httpx.Client(base_url=running.url, timeout=60) as http,
    ):
        response, seconds = timed(lambda: http.put("/docs/menu.pdf", content=PDF, headers=AUTH))
    assert response.status_code == 504, response.text
    assert seconds < STORE_TIMEOUT + SLACK, seconds
    stored = bucket.keys()
    assert "docs/menu.pdf" not in stored


@pytest.mark.parametrize("server", SERVERS)
def test_readyz_on_s3_reads_the_bucket(tmp_path, server, stalling):
    """Credentials that may see the bucket but not read its objects (HeadBucket
    answers, every GetObject is a 403): every GET is a 503, so /readyz must not say
    ready, as it did on HeadBucket alone. Reads allowed again: ready again."""
    deny = threading.Event()
    deny.set()
    store, bucket = stalling(lambda method, key: "deny" if deny.is_set() and key else None)
    bucket.put("a.pdf", PDF)
    with (
        serve_s3(tmp_path, bucket.name, store.url, server) as running,
        httpx.Client(base_url=running.url, timeout=60) as http,
    ):
        refused_get = http.get("/a.pdf").status_code
        refused_ready, seconds = timed(lambda: http.get("/readyz"))
        deny.clear()
        allowed_get = http.get("/a.pdf").status_code
        allowed_ready = http.get("/readyz")
    assert (refused_get, refused_ready.status_code) == (503, 503)
    assert refused_ready.headers["cache-control"] == "no-store"
    assert seconds < STORE_TIMEOUT + SLACK
    assert (allowed_get, allowed_ready.status_code, allowed_ready.text) == (200, 200, "ready\n")


# --- /readyz on a filesystem root that cannot be read --------------------------


def _unreadable_prefix(probe: Path) -> tuple[str, ...] | None:
    """The command prefix under which a server cannot read a chmod-000 folder, or None.

    Not root: nothing is needed. Root: without the two DAC capabilities (setpriv,
    util-linux). The probe checks it on the real folder rather than trusting it."""
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if shutil.which(WITHOUT_DAC[0]) is None:
            return None
        prefix = WITHOUT_DAC
    probe.mkdir()
    probe.chmod(0)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-c", f"import os; os.scandir({str(probe)!r})"],
            capture_output=True,
            timeout=30,
        )
    finally:
        probe.chmod(0o755)
    return prefix if result.returncode != 0 and b"PermissionError" in result.stderr else None


@pytest.mark.parametrize("server", SERVERS)
def test_readyz_and_get_on_a_root_that_cannot_be_read(tmp_path, server):
    """chmod 000 on the storage root: every GET fails, so /readyz is a 503 and a GET
    of a stored file a 503 to retry, never a 404 that a CDN or Meta would keep.
    /readyz said "ready" (the root existed) while every GET was a 404. Permissions
    back: ready again, and the file is served."""
    root = tmp_path / "media"
    (root / "campaigns").mkdir(parents=True)
    (root / "campaigns" / "promo.pdf").write_bytes(PDF)
    prefix = _unreadable_prefix(tmp_path / "probe")
    if prefix is None:
        pytest.skip("cannot make a folder unreadable here (root without setpriv)")
    config = write_config(tmp_path, "")
    command = [*prefix, sys.executable, "-m", "origin", "serve", "--config", str(config)]
    with (
        start_server(config, root, command=[*command, "--server", server]) as running,
        httpx.Client(base_url=running.url, timeout=30) as http,
    ):
        assert http.get("/readyz").status_code == 200
        root.chmod(0)
        try:
            ready = http.get("/readyz")
            got = http.get("/campaigns/promo.pdf")
            missing = http.get("/campaigns/never-there.pdf")
        finally:
            root.chmod(0o755)
        back_ready = http.get("/readyz").status_code
        back = http.get("/campaigns/promo.pdf")
    assert ready.status_code == 503 and ready.headers["cache-control"] == "no-store"
    assert got.status_code == 503, got.status_code
    assert got.headers["cache-control"] == "no-store" and "retry-after" in got.headers
    assert missing.status_code == 503  # unreadable: nobody can tell it is absent
    assert (back_ready, back.status_code, back.content) == (200, 200, PDF)
