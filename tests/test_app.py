"""The ASGI app driven directly, for what a socket cannot show."""

import asyncio

import pytest

from origin.app import MediaOrigin
from origin.config import default_config


@pytest.fixture
def app(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.jpg").write_bytes(b"\xff\xd8" * 10)
    return MediaOrigin(default_config(tmp_path))


def call(app, headers=()):
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            # What Starlette's MutableHeaders(scope=message) does in middleware.
            message["headers"].append((b"x-added-by-middleware", b"1"))
        messages.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/a.jpg",
        "query_string": b"",  # required by the ASGI spec
        "headers": list(headers),
    }
    asyncio.run(app(scope, receive, send))
    return messages


@pytest.mark.parametrize("conditional", [False, True])
def test_middleware_that_mutates_headers_cannot_corrupt_cached_headers(app, conditional):
    etag = dict(call(app)[0]["headers"])[b"etag"]
    headers = [(b"if-none-match", etag)] if conditional else []
    for _ in range(3):
        start = call(app, headers)[0]
        added = [name for name, _ in start["headers"] if name == b"x-added-by-middleware"]
        assert len(added) == 1
