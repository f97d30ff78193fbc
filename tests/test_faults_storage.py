"""Concurrency and fault suite: storage and uploads.

Part of the concurrency and fault test suite (``tests/test_faults_*.py``): each
test reproduces a way a promise broke when the server was attacked on
loopback, and shows it kept now. The promises here: the strong ETag names
exactly the bytes sent, during a PUT storm and at rest; a reader gets one whole
version or a cut connection; nothing at a served path can hang the server;
bad or cut upload bodies get a JSON 4xx and store nothing; a full or read-only
disk is a JSON 507/503, never a 500; a storage that fails is a 503, never a 404.

Every load loop is bounded in count and in time, and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.disks import small_disk
from tests.helpers.servers import (
    SERVERS,
    SETUP_IDS,
    SETUPS,
    WITHOUT_DAC,
    start_server,
    start_setup,
    write_config,
)

TOKEN = "fault-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENV = {"FAULT_TOKEN": TOKEN}
CONFIG = """
[api]
token_env = "FAULT_TOKEN"

[policy."/"]
cache_control = "no-cache"
etag = "strong"
"""
STORM_SECONDS = 6.0  # wall-time bound of each load loop


def etag_of(body: bytes) -> str:
    """The strong ETag media-origin derives from the bytes: 128 bits of SHA-256."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def store_etag_of(body: bytes) -> str:
    """The S3 fallback ETag for an object with no ``x-amz-meta-sha256``: the store's
    own, an MD5 of the bytes for a single PutObject (storage/s3.py)."""
    return f'"{hashlib.md5(body).hexdigest()}"'


def names_body(etag: str, body: bytes, on_s3: bool) -> bool:
    """Whether ``etag`` names exactly ``body``. On S3 the store's own ETag does too:
    moto's server puts an object in its bucket a moment before it sets the object's
    metadata (``put_object`` then ``set_metadata`` in moto/s3/responses.py), so a
    HEAD in between reads an object put, as by another tool, without our metadata,
    and the origin sends the documented fallback for those bytes. AWS's PutObject
    publishes both at once. An ETag of any other bytes is still a mismatch."""
    return etag == etag_of(body) or (on_s3 and etag == store_etag_of(body))


def document(tag: str, size: int) -> bytes:
    """A plain-text document, distinct per tag, of about ``size`` bytes."""
    line = f"{tag} {hashlib.sha256(tag.encode()).hexdigest()}\n".encode()
    return (line * (size // len(line) + 1))[:size]


@pytest.fixture(params=SETUPS, ids=SETUP_IDS)
def api(tmp_path, request):
    with start_setup(tmp_path, request, CONFIG, ENV) as server:
        yield server


@pytest.fixture(params=SERVERS)
def local(tmp_path, request):
    """``local(root)`` serves a filesystem root (made if missing) under the param's server."""
    started = []

    def _serve(root: Path | None = None, command_prefix: tuple[str, ...] = ()):
        root = root or tmp_path / "media"
        root.mkdir(exist_ok=True)
        config = write_config(tmp_path, CONFIG, root=str(root))
        command = None
        if command_prefix:
            command = [*command_prefix, sys.executable, "-m", "origin", "serve"]
            command += ["--config", str(config), "--server", request.param]
        server = start_server(config, root, server=request.param, env=ENV, command=command)
        started.append(server)
        return server

    yield _serve
    for server in started:
        server.stop()


# 1. Concurrent PUTs to one path: every ETag sent names the bytes it came with.


@pytest.mark.parametrize("size", [3_000, 200_000], ids=["from-memory", "streamed"])
def test_put_storm_every_etag_matches_its_body_and_at_rest(api, size):
    deadline = time.monotonic() + STORM_SECONDS
    mismatches: list[str] = []
    put_statuses: list[int] = []
    get_statuses: list[int] = []
    range_statuses: list[int] = []
    seen_bodies = 0
    stop = threading.Event()
    on_s3 = api.bucket is not None

    def putter(number: int) -> None:
        with api.client() as http:
            for round_ in range(40):
                if time.monotonic() > deadline or stop.is_set():
                    return
                body = document(f"writer {number} round {round_}", size)
                reply = http.put("/storm/file.txt", content=body, headers=AUTH)
                put_statuses.append(reply.status_code)
                if reply.status_code in (200, 201) and reply.json()["etag"] != etag_of(body):
                    mismatches.append(f"PUT answer {reply.json()['etag']} for {etag_of(body)}")

    def getter() -> None:
        nonlocal seen_bodies
        with api.client() as http:
            for _ in range(400):
                if time.monotonic() > deadline or stop.is_set():
                    return
                reply = http.get("/storm/file.txt")
                get_statuses.append(reply.status_code)
                if reply.status_code == 200:
                    seen_bodies += 1
                    if not names_body(reply.headers["etag"], reply.content, on_s3):
                        mismatches.append(f"GET {reply.headers['etag']}")
                part = http.get("/storm/file.txt", headers={"Range": "bytes=1000-1999"})
                range_statuses.append(part.status_code)
                if part.status_code == 206 and len(part.content) != 1000:
                    mismatches.append(f"Range got {len(part.content)} bytes")

    threads = [threading.Thread(target=putter, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=getter) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(STORM_SECONDS + 30)
    stop.set()
    assert not mismatches, mismatches[:5]
    assert seen_bodies >= 10  # the readers really raced the writers
    assert set(get_statuses) <= {200, 404}, (sorted(set(get_statuses)), api.stderr()[-2000:])
    assert set(range_statuses) <= {206, 404}, (sorted(set(range_statuses)), api.stderr()[-2000:])
    # moto's server itself answers some concurrent PutObjects with a 500, which the
    # origin passes on as a JSON 503 (the store failed, not the upload).
    put_allowed = {200, 201, 503} if api.bucket is not None else {200, 201}
    assert set(put_statuses) <= put_allowed, (sorted(set(put_statuses)), api.stderr()[-2000:])
    with api.client() as http:  # at rest: still the ETag of the bytes
        reply = http.get("/storm/file.txt")
        assert reply.headers["etag"] == etag_of(reply.content)
        again = http.get("/storm/file.txt", headers={"If-None-Match": reply.headers["etag"]})
        assert again.status_code == 304


# 2. A FIFO at a served path never hangs the server.


def test_a_fifo_swapped_in_is_a_404_and_the_server_keeps_answering(local):
    server = local()
    target = server.root / "clip.txt"
    target.write_bytes(document("regular", 200_000))
    with server.client() as http:
        assert http.get("/clip.txt").status_code == 200
        fifo = server.root / "swap.fifo.tmp"
        os.mkfifo(fifo)
        os.replace(fifo, target)  # an atomic swap, as an attacker would do it
        http.timeout = 5
        assert http.get("/clip.txt").status_code == 404
        assert http.head("/clip.txt").status_code == 404
        assert http.get("/healthz").status_code == 200


def test_flipping_between_a_file_and_a_fifo_under_load_never_blocks(local):
    server = local()
    target = server.root / "flip.txt"
    body = document("flip", 100_000)
    target.write_bytes(body)
    deadline = time.monotonic() + STORM_SECONDS
    done = threading.Event()

    def flipper() -> None:
        # Flips until the reader is done (bounded by count and time), so the
        # reader never meets only the last state, whichever it is.
        for number in range(20_000):
            if time.monotonic() > deadline or done.is_set():
                return
            staging = server.root / f"staging-{number}"
            if number % 2:
                os.mkfifo(staging)
            else:
                staging.write_bytes(body)
            os.replace(staging, target)
            time.sleep(0.001)  # each state lasts about as long as the other

    thread = threading.Thread(target=flipper)
    thread.start()
    statuses = []
    try:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            for _ in range(300):
                if time.monotonic() > deadline:
                    break
                reply = http.get("/flip.txt")  # a hang would time out in 5 s
                statuses.append(reply.status_code)
                if reply.status_code == 200:
                    assert reply.content == body
    finally:
        done.set()
        thread.join(10)
    assert set(statuses) <= {200, 404, 503}
    assert 200 in statuses
    staging = server.root / "staging-final"
    staging.write_bytes(body)  # target may be a FIFO: writing to it would block
    os.replace(staging, target)  # a regular file again: served whole, at once
    with httpx.Client(base_url=server.url, timeout=5) as http:
        again = http.get("/flip.txt")
    assert (again.status_code, again.content) == (200, body)


# 4. A file rewritten in place during a download: one whole version or a cut.


def _download_while(server, path: str, rewrite) -> tuple[bytes, bool]:
    """Read a little, run ``rewrite``, read on slowly; (bytes received, whether complete)."""
    received = bytearray()
    complete = False
    with (
        httpx.Client(base_url=server.url, timeout=10) as http,
        http.stream("GET", path) as reply,
    ):
        assert reply.status_code == 200
        length = int(reply.headers["content-length"])
        chunks = reply.iter_raw(64 * 1024)
        with contextlib.suppress(httpx.HTTPError):
            received += next(chunks)
            rewrite()
            for chunk in chunks:
                received += chunk
                time.sleep(0.001)
            complete = len(received) == length
    return bytes(received), complete


@pytest.mark.parametrize(
    "how", ["same-size-rewrite", "rewrite-then-old-mtime", "cp-truncate", "dd-notrunc"]
)
def test_an_in_place_overwrite_during_a_download_is_never_sent_mixed(local, how):
    server = local()
    old = b"A" * (48 * 1024 * 1024)
    target = server.root / "big.txt"
    target.write_bytes(old)
    replacement = server.root.parent / "new.txt"
    replacement.write_bytes(b"B" * len(old))

    def rewrite() -> None:
        before = target.stat()
        if how in ("same-size-rewrite", "rewrite-then-old-mtime"):
            with open(target, "r+b") as file:
                file.write(b"B" * len(old))
            if how == "rewrite-then-old-mtime":  # as rsync --inplace -t leaves it
                os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
        elif how == "cp-truncate":
            subprocess.run(["cp", str(replacement), str(target)], check=True)
        else:
            subprocess.run(
                ["dd", f"if={replacement}", f"of={target}", "conv=notrunc", "status=none"],
                check=True,
            )

    received, complete = _download_while(server, "/big.txt", rewrite)
    assert b"B" not in received, "bytes of the new version were sent under the old headers"
    assert not complete, "the download of a version that changed must be cut"
    with server.client() as http:  # the new version is served whole, with its own ETag
        reply = http.get("/big.txt")
        assert reply.content == b"B" * len(old)
        assert reply.headers["etag"] == etag_of(reply.content)


def test_a_small_file_rewritten_in_place_is_served_with_its_new_etag(local):
    server = local()
    target = server.root / "note.txt"
    target.write_bytes(b"first version\n")
    with server.client() as http:
        first = http.get("/note.txt")
        with open(target, "r+b") as file:
            file.write(b"other version\n")  # same size, same inode
        second = http.get("/note.txt")
    assert first.headers["etag"] == etag_of(b"first version\n")
    assert second.content == b"other version\n"
    assert second.headers["etag"] == etag_of(b"other version\n")


# 6. Bad upload bodies are a JSON 400 that stores nothing, never a 500.


def _multipart(boundary: str, head: str, body: bytes = b"data", close: bool = True) -> bytes:
    parts = f"--{boundary}\r\n{head}\r\n\r\n".encode() + body
    return parts + (f"\r\n--{boundary}--\r\n".encode() if close else b"")


GOOD_PART = 'Content-Disposition: form-data; name="f"; filename="a.txt"'
MALFORMED_FORMS = {
    "garbage": ("b0undary", b"this is not a multipart body at all" * 20),
    "header-without-colon": ("b0undary", _multipart("b0undary", "Content-Disposition form-data")),
    "cr-in-filename": (
        "b0undary",
        _multipart("b0undary", 'Content-Disposition: form-data; name="f"; filename="a\rb.txt"'),
    ),
    "5000-character-boundary": ("x" * 5_000, _multipart("x" * 5_000, GOOD_PART)),
    "1-mb-part-header": ("b0undary", _multipart("b0undary", "X-Big: " + "y" * 1_000_000)),
    "20000-part-headers": (
        "b0undary",
        _multipart("b0undary", GOOD_PART + "".join(f"\r\nX-{n}: v" for n in range(20_000))),
    ),
    "cut-before-the-closing-boundary": (
        "b0undary",
        _multipart("b0undary", GOOD_PART, document("half", 20_000), close=False),
    ),
}


@pytest.mark.parametrize("case", MALFORMED_FORMS, ids=list(MALFORMED_FORMS))
def test_malformed_multipart_is_a_400_that_stores_nothing(api, case):
    boundary, body = MALFORMED_FORMS[case]
    headers = {**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    with api.client() as http:
        reply = http.post("/docs/", content=body, headers=headers)
        assert reply.status_code == 400, reply.text[:300]
        assert reply.headers["content-type"] == "application/json"
        assert reply.json()["error"] in ("malformed_multipart", "incomplete_body", "invalid_path")
        assert http.get("/docs/a.txt").status_code == 404
        assert http.get("/healthz").status_code == 200
    assert not [name for name in api.stored() if name.startswith("docs")]


def test_a_content_length_of_5000_digits_is_a_4xx(api):
    reply = api.raw(
        f"PUT /docs/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Length: {'9' * 5_000}\r\nConnection: close\r\n\r\nabc".encode()
    )
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500, reply[:200]


def test_a_malformed_chunked_body_is_a_4xx_and_stores_nothing(api):
    reply = api.raw(
        f"PUT /docs/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        "5\r\nhello\r\nZZZ-not-a-size\r\nxx\r\n0\r\n\r\n".encode()
    )
    status = int(reply.split(b" ", 2)[1])
    # The server layer answers for us (uvicorn) or the app does (granian): a 4xx, never a 5xx.
    assert 400 <= status < 500, reply[:300]
    with api.client() as http:
        assert http.get("/docs/a.txt").status_code == 404


# 6. A full disk and a read-only one: JSON answers, nothing lost.


def test_a_full_disk_is_a_507_and_the_stored_file_survives(local, tmp_path):
    with small_disk(tmp_path / "disk") as root:
        kept = document("kept", 100_000)
        (root / "kept.txt").write_bytes(kept)
        server = local(root)
        with server.client() as http:
            reply = http.put("/kept.txt", content=document("huge", 3_000_000), headers=AUTH)
            assert reply.status_code == 507, reply.text
            assert reply.json()["error"] == "storage_full"
            again = http.get("/kept.txt")
            assert again.content == kept
            assert again.headers["etag"] == etag_of(kept)
            assert http.put("/small.txt", content=b"fits\n", headers=AUTH).status_code == 201
        server.stop()
        assert not list((root / ".media-origin" / "uploads").rglob("*.part"))


def test_a_read_only_disk_answers_uploads_with_a_json_503_and_still_serves(local, tmp_path):
    """As a Docker volume mounted :ro is (a remount of a disk in use would be refused)."""
    with small_disk(tmp_path / "disk") as root:
        (root / "kept.txt").write_bytes(b"kept\n")
        subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)
        server = local(root)
        with server.client() as http:
            for reply in (
                http.put("/new.txt", content=b"new\n", headers=AUTH),
                http.put("/other/new.txt", content=b"new\n", headers=AUTH),
                http.delete("/kept.txt", headers=AUTH),
            ):
                assert reply.status_code == 503, reply.text
                assert reply.json()["error"] == "storage_read_only"
            reply = http.get("/kept.txt")
            assert reply.content == b"kept\n"
            assert reply.headers["etag"] == etag_of(b"kept\n")


# A storage that fails is a 503, never a 404; one bad file never fails a listing.


def test_unreadable_files_are_503_and_listed_with_their_error(local, tmp_path):
    root = tmp_path / "media"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "ok.txt").write_bytes(b"fine\n")
    (root / "docs" / "locked.txt").write_bytes(b"secret\n")
    (root / "docs" / "locked.txt").chmod(0)
    (root / "closed").mkdir()
    (root / "closed" / "inside.txt").write_bytes(b"inside\n")
    (root / "docs" / "into-closed.txt").symlink_to(root / "closed" / "inside.txt")
    (root / "closed").chmod(0)
    try:
        server = local(root, command_prefix=WITHOUT_DAC)
        with server.client() as http:
            assert http.get("/docs/ok.txt").status_code == 200
            assert http.get("/docs/locked.txt").status_code == 503
            assert http.get("/closed/inside.txt").status_code == 503
            assert http.get("/docs/missing.txt").status_code == 404
            listing = http.get("/docs/?list", headers=AUTH)
            assert listing.status_code == 200, listing.text
            by_path = {entry["path"]: entry for entry in listing.json()}
            assert by_path["/docs/ok.txt"]["etag"] == etag_of(b"fine\n")
            assert "error" in by_path["/docs/locked.txt"]
            assert "/docs/into-closed.txt" not in by_path  # a link into /closed/
            closed = http.get("/closed/?list", headers=AUTH)
            assert closed.status_code == 503, closed.text
            assert closed.headers["content-type"] == "application/json"
    finally:
        (root / "closed").chmod(0o755)


def test_a_refused_connection_mid_upload_leaves_the_old_file_whole(api):
    """kill -9 style: the client vanishes after half the body; the old version stays."""
    old = document("old", 50_000)
    with api.client() as http:
        assert http.put("/keep/file.txt", content=old, headers=AUTH).status_code == 201
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as sock:
        sock.sendall(
            f"PUT /keep/file.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Length: 100000\r\n\r\n".encode()
            + b"x" * 30_000
        )
        time.sleep(0.3)
    time.sleep(0.5)
    with api.client() as http:
        reply = http.get("/keep/file.txt")
        assert reply.content == old
        assert reply.headers["etag"] == etag_of(old)


# 3. An active name is refused before a byte of its body is spooled, forced or not.


@pytest.mark.parametrize("query", ["", "?force=true"])
def test_an_active_name_is_refused_before_its_body_is_read(api, query):
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as sock:
        sock.sendall(
            f"PUT /site/app.JS{query} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Length: 50000000\r\n\r\n".encode()  # and no body at all
        )
        reply = b""
        while b"}" not in reply and (chunk := sock.recv(65536)):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 415"), reply[:200]
    assert b'"active_content"' in reply


# The server layer's own error answers, as the README describes them.


def test_the_http_servers_own_errors_are_as_the_readme_says(local, request):
    server = local()
    reply = server.raw(b"GARBAGE\r\n\r\n")
    head = reply.partition(b"\r\n\r\n")[0].lower()
    assert reply.startswith(b"HTTP/1.1 400")
    if request.node.callspec.params["local"] == "granian":
        # An empty body and no Content-Type, which granian offers no way to change.
        assert b"content-type" not in head
        assert b"content-length: 0" in head
    else:
        assert b"content-type: text/plain" in head
