"""``send_response``, the one sender: a response decided as a value, turned into
ASGI messages. What it does when the storage raises is its contract, so the file
here is a small stand-in whose chunks can raise FileChanged on cue."""

import asyncio

import pytest

from origin.serve.responses import FileResponse, Response, plain
from origin.serve.sender import BodyAborted, send_response
from storage.base import FileChanged, FileStat

STAT = FileStat(size=40, mtime=1_700_000_000.0, version=("v", 1))
HEADERS = [(b"content-type", b"image/jpeg"), (b"content-length", b"40")]


def chunk(index: int) -> bytes:
    """Chunk ``index``: ten times one letter, ``b"AAAAAAAAAA"``, ``b"BBBBBBBBBB"``, ..."""
    return bytes([65 + index % 26]) * 10


class ChunkedFile:
    """An OpenFile of ``chunk_count`` chunks of 10 bytes (``chunk(0)``, ``chunk(1)``,
    ...); ``fail_at`` names the chunk that raises FileChanged."""

    def __init__(self, chunk_count: int = 4, fail_at: int | None = None) -> None:
        self.stat = FileStat(size=10 * chunk_count, mtime=STAT.mtime, version=STAT.version)
        self.chunk_count = chunk_count
        self.fail_at = fail_at
        self.produced = 0  # chunks handed out
        self.finished = False  # the generator ran its finally (closed or exhausted)

    async def read(self, start: int, stop: int) -> bytes:
        raise AssertionError("the sender streams with chunks()")

    async def chunks(self, start: int, stop: int):
        try:
            for index in range(self.chunk_count):
                await asyncio.sleep(0)  # a read that lets the loop run, as a disk or S3 does
                if index == self.fail_at:
                    raise FileChanged("/a.jpg")
                self.produced += 1
                yield chunk(index)
        finally:
            self.finished = True

    def close(self) -> None:
        pass


class Client:
    """The server's side of send and receive; ``disconnect``: receive says the
    client is gone, else it waits forever (a client still reading)."""

    def __init__(self, disconnect: bool = False) -> None:
        self.messages: list[dict] = []
        self.disconnect = disconnect

    async def send(self, message: dict) -> None:
        self.messages.append(message)

    async def receive(self) -> dict:
        if self.disconnect:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]


def sent(response, method="GET", client=None):
    client = client or Client()
    asyncio.run(send_response(client.send, response, method, client.receive))
    return client


def test_a_head_gets_the_headers_and_an_empty_body():
    response = plain(200, "hello")
    client = sent(response, "HEAD")
    assert client.messages == [
        {"type": "http.response.start", "status": 200, "headers": response.headers},
        {"type": "http.response.body", "body": b""},
    ]
    assert dict(client.messages[0]["headers"])[b"content-length"] == b"6"  # the GET's length


def test_a_get_gets_the_body():
    client = sent(Response(200, list(HEADERS), b"x" * 40))
    assert client.bodies == [b"x" * 40]
    assert client.messages[0]["status"] == 200


@pytest.mark.parametrize("kind", ["response", "file"])
def test_the_header_list_sent_is_a_copy(kind):
    headers = list(HEADERS)
    if kind == "response":
        response = Response(200, headers, b"x" * 40)
    else:
        response = FileResponse(200, headers, ChunkedFile(), 0, 40)
    client = sent(response)
    start = client.messages[0]
    assert start["headers"] == HEADERS
    assert start["headers"] is not headers
    start["headers"].append((b"x-request-id", b"1"))  # what a middleware does
    assert response.headers == HEADERS
    assert response.headers is headers


def test_a_file_is_streamed_whole_with_more_body_until_the_last_chunk():
    file = ChunkedFile(chunk_count=4)
    client = sent(FileResponse(206, list(HEADERS), file, 0, 40))
    assert client.messages[0] == {
        "type": "http.response.start",
        "status": 206,
        "headers": HEADERS,
    }
    body_messages = client.messages[1:]
    assert [m["body"] for m in body_messages] == [chunk(0), chunk(1), chunk(2), chunk(3)]
    assert [m["more_body"] for m in body_messages] == [True, True, True, False]
    assert file.finished


def test_a_file_changed_at_the_first_chunk_sends_nothing_and_propagates():
    """Raised before any header: the caller can still serve the new version."""
    file = ChunkedFile(fail_at=0)
    client = Client()
    with pytest.raises(FileChanged):
        asyncio.run(
            send_response(
                client.send, FileResponse(200, list(HEADERS), file, 0, 40), "GET", client.receive
            )
        )
    assert client.messages == []
    assert file.finished  # the generator was closed


def test_a_file_changed_after_the_headers_aborts_the_body():
    """The headers and the first chunk are gone: the connection must be cut
    (BodyAborted), never completed with other bytes."""
    file = ChunkedFile(fail_at=1)
    client = Client()
    with pytest.raises(BodyAborted) as raised:
        asyncio.run(
            send_response(
                client.send, FileResponse(200, list(HEADERS), file, 0, 40), "GET", client.receive
            )
        )
    assert isinstance(raised.value.__cause__, FileChanged)
    assert [m["type"] for m in client.messages] == ["http.response.start", "http.response.body"]
    assert client.messages[1] == {"type": "http.response.body", "body": chunk(0), "more_body": True}
    assert file.finished


def test_a_client_disconnect_stops_the_stream_early():
    file = ChunkedFile(chunk_count=100)
    client = sent(FileResponse(200, list(HEADERS), file, 0, 1000), client=Client(disconnect=True))
    # The watcher starts once a second chunk is due, sees the disconnect at the
    # first read that yields, and the stream ends after that chunk.
    assert client.bodies == [chunk(0), chunk(1)]
    assert client.messages[-1]["more_body"] is True  # a short body, never a finished one
    assert file.produced == 2
    assert file.finished


def test_a_client_still_reading_gets_every_chunk():
    file = ChunkedFile(chunk_count=100)
    client = sent(FileResponse(200, list(HEADERS), file, 0, 1000), client=Client())
    assert len(client.bodies) == 100
    assert b"".join(client.bodies) == b"".join(chunk(i) for i in range(100))
    assert file.finished
