"""The ASGI app driven directly, for what a socket cannot show."""

import asyncio

import pytest

from origin.app import MediaOrigin, build_app
from origin.config import config_from_document, default_config
from tests.helpers.asgi import http_scope, receive_nothing_more


@pytest.fixture
def app(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.jpg").write_bytes(b"\xff\xd8" * 10)
    return MediaOrigin(default_config(tmp_path))


def call(app, headers=()):
    messages = []

    async def send(message):
        if message["type"] == "http.response.start":
            # What Starlette's MutableHeaders(scope=message) does in middleware.
            message["headers"].append((b"x-added-by-middleware", b"1"))
        messages.append(message)

    scope = http_scope("/a.jpg", headers=headers)
    asyncio.run(app(scope, receive_nothing_more, send))
    return messages


@pytest.mark.parametrize("conditional", [False, True])
def test_middleware_that_mutates_headers_cannot_corrupt_cached_headers(app, conditional):
    etag = dict(call(app)[0]["headers"])[b"etag"]
    headers = [(b"if-none-match", etag)] if conditional else []
    for _ in range(3):
        start = call(app, headers)[0]
        added = [name for name, _ in start["headers"] if name == b"x-added-by-middleware"]
        assert len(added) == 1


def test_the_app_as_servers_run_it_echoes_one_request_id_into_no_shared_list(tmp_path, capsys):
    """``build_app``: the router wrapped in the access log, whose X-Request-ID is
    appended to every response's headers. Appended to a list the representation
    shares, it would pile up from one response to the next."""
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.jpg").write_bytes(b"\xff\xd8" * 10)
    config = config_from_document(
        {"log": {"access": "json"}}, source="t", base_dir=tmp_path, environ={}
    )
    app = build_app(config)
    etag = dict(call(app)[0]["headers"])[b"etag"]
    for number in range(3):
        for headers, status in (([], 200), ([(b"if-none-match", etag)], 304)):
            request_id = f"r{number}-{status}".encode()
            messages = call(app, [*headers, (b"x-request-id", request_id)])
            start = messages[0]
            assert start["status"] == status
            names = [name for name, _ in start["headers"]]
            assert names.count(b"x-added-by-middleware") == 1
            assert [v for n, v in start["headers"] if n == b"x-request-id"] == [request_id]
            assert messages[-1]["body"] == (b"\xff\xd8" * 10 if status == 200 else b"")
    app.observer.out.flush()
    logged = capsys.readouterr().out.splitlines()
    assert len(logged) == 7  # the first GET and the six
