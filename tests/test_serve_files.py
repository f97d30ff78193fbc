"""``Files``, the read side, over a real FilesystemStorage: what a GET gets when
the file is missing, signed, or replaced between its stat and its open (the one
retry, pinned to the version an open descriptor holds).

A race is made deterministic without touching the product: the storage hashes a
version in the event loop's default executor, and the executor here runs each
job at once and then does what a writer would do at that moment."""

import asyncio
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from origin.config import config_from_document
from origin.serve.files import Files
from origin.serve.links import signed_query
from origin.serve.representations import Representations
from origin.serve.responses import BUSY
from storage.filesystem import FilesystemStorage
from tests.helpers.asgi import http_scope

KEY = "k" * 32


def make_files(tmp_path, document=None, environ=None) -> Files:
    (tmp_path / "media").mkdir(exist_ok=True)
    config = config_from_document(
        document or {}, source="test", base_dir=tmp_path, environ=environ or {}
    )
    storage = FilesystemStorage(config.storage.root)
    representations = Representations(storage, config.policies)
    return Files(storage, representations, config.policies, config.api.signing_key)


class Writer(ThreadPoolExecutor):
    """A default executor that runs job ``n`` at once, then ``after[n]()`` (if any)."""

    def __init__(self, after: dict) -> None:
        super().__init__(max_workers=1)
        self.after = after
        self.jobs = 0

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        self.jobs += 1
        if self.jobs in self.after:
            self.after[self.jobs]()
        return future


def get(files, url_path, query=b"", executor=None):
    """(whether serve answered, the messages sent) for a GET of ``url_path``."""
    messages = []

    async def receive():
        await asyncio.Event().wait()  # a client still reading

    async def send(message):
        messages.append(message)

    scope = http_scope(url_path, query=query)

    async def run():
        if executor is not None:
            asyncio.get_running_loop().set_default_executor(executor)
        return await files.serve(scope, receive, send, url_path.lstrip("/"))

    answered = asyncio.run(run())
    return answered, messages


def status_headers_body(messages):
    start = messages[0]
    assert start["type"] == "http.response.start"
    body = b"".join(m["body"] for m in messages[1:])
    assert not messages[-1].get("more_body", False)
    return start["status"], dict(start["headers"]), body


def replace_file(target, data: bytes):
    """What an atomic writer does: a new file renamed over the old one."""

    def replace():
        new = target.parent.parent / "incoming"
        new.write_bytes(data)
        os.replace(new, target)

    return replace


# Below and above the body cache's 64 KiB; the larger one is several 256 KiB chunks.
@pytest.mark.parametrize("size", [1000, 700_000])
def test_a_replaced_file_is_served_whole_at_the_new_version(tmp_path, size):
    """Replaced between the stat that described it and the open of its body."""
    files = make_files(tmp_path)
    target = tmp_path / "media" / "a.bin"
    old, new = b"o" * size, b"n" * size  # the same size: only the version tells them apart
    target.write_bytes(old)
    # Job 1 hashes the version stat'ed; then the file is replaced, so the body's
    # open finds another version (FileChanged) and serve retries, pinned. Job 2
    # hashes the pinned version from its descriptor.
    writer = Writer({1: replace_file(target, new)})
    answered, messages = get(files, "/a.bin", executor=writer)
    assert answered
    status, headers, body = status_headers_body(messages)
    assert status == 200
    assert body == new
    assert headers[b"content-length"] == str(size).encode()
    assert writer.jobs == 2
    # The ETag sent is the new version's, as a fresh GET (no race) describes it.
    _, fresh = get(files, "/a.bin")
    assert status_headers_body(fresh) == (200, headers, new)


def test_a_file_rewritten_in_place_under_the_pinned_descriptor_is_a_503(tmp_path):
    """The retry happens once: a version that changes even while held open is a
    503 to retry, never mixed bytes."""
    files = make_files(tmp_path)
    target = tmp_path / "media" / "a.bin"
    target.write_bytes(b"o" * 1000)

    def append():  # in place: same inode, another size
        with target.open("ab") as file:
            file.write(b"more")

    # Job 1 hashes the first version, then the path is replaced; job 2 (the pinned
    # hash) reads a file rewritten in place after it was opened.
    writer = Writer({1: replace_file(target, b"n" * 1000)})
    original = writer.submit

    def submit(fn, /, *args, **kwargs):
        if writer.jobs == 1:
            append()
        return original(fn, *args, **kwargs)

    writer.submit = submit
    answered, messages = get(files, "/a.bin", executor=writer)
    assert answered
    assert messages == [
        {"type": "http.response.start", "status": 503, "headers": BUSY.headers},
        {"type": "http.response.body", "body": BUSY.body},
    ]
    assert BUSY.status == 503 and dict(BUSY.headers)[b"retry-after"] == b"1"


def test_a_missing_file_is_false_and_sends_nothing(tmp_path):
    files = make_files(tmp_path)
    answered, messages = get(files, "/missing.jpg")
    assert answered is False
    assert messages == []


def test_a_file_deleted_before_the_pinned_open_is_a_404(tmp_path):
    files = make_files(tmp_path)
    target = tmp_path / "media" / "a.bin"
    target.write_bytes(b"o" * 1000)
    answered, messages = get(files, "/a.bin", executor=Writer({1: target.unlink}))
    assert answered
    status, _, body = status_headers_body(messages)
    assert (status, body) == (404, b"Not Found\n")


SIGNED = {"api": {"signing_key_env": "KEY"}, "policy": {"/private": {"signed": True}}}


def test_a_signed_folder_without_a_signature_is_a_403_in_plain_text(tmp_path):
    files = make_files(tmp_path, SIGNED, {"KEY": KEY})
    (tmp_path / "media" / "private").mkdir()
    (tmp_path / "media" / "private" / "a.pdf").write_bytes(b"%PDF-1.4 secret")
    answered, messages = get(files, "/private/a.pdf")
    assert answered
    status, headers, body = status_headers_body(messages)
    assert status == 403
    assert body == b"Forbidden: this link needs ?expires=...&sig=...\n"
    assert headers[b"content-type"] == b"text/plain; charset=utf-8"
    assert headers[b"cache-control"] == b"no-store"
    assert headers[b"content-length"] == str(len(body)).encode()


def test_a_signed_folder_with_a_valid_signature_serves_the_file(tmp_path):
    files = make_files(tmp_path, SIGNED, {"KEY": KEY})
    (tmp_path / "media" / "private").mkdir()
    (tmp_path / "media" / "private" / "a.pdf").write_bytes(b"%PDF-1.4 secret")
    query = signed_query(KEY.encode(), "/private/a.pdf", int(time.time()) + 60)
    answered, messages = get(files, "/private/a.pdf", query.encode())
    assert answered
    assert status_headers_body(messages)[::2] == (200, b"%PDF-1.4 secret")
    # The same link for another file of the folder is refused.
    (tmp_path / "media" / "private" / "b.pdf").write_bytes(b"%PDF-1.4 other")
    _, messages = get(files, "/private/b.pdf", query.encode())
    status, _, body = status_headers_body(messages)
    assert (status, body) == (
        403,
        b"Forbidden: the signature does not match this path and expiry\n",
    )
