"""``AccessLog``: the middleware that writes one access-log line per request,
driven in-process through ``build_app`` (the app as servers run it). Its lines
go to the sys.stdout of the moment the app is made, so each test makes its app
under capsys."""

import asyncio
import dataclasses
import json
import re

import pytest

from origin.app import build_app
from origin.config import LogConfig, config_from_document
from tests.helpers import asgi

JPEG = b"\xff\xd8" + b"j" * 98


@pytest.fixture
def config(tmp_path):
    (tmp_path / "media" / "campaigns").mkdir(parents=True)
    (tmp_path / "media" / "a.jpg").write_bytes(JPEG)
    (tmp_path / "media" / "campaigns" / "b.jpg").write_bytes(JPEG * 2)
    document = {"log": {"access": "json"}, "policy": {"/campaigns": {"cache_control": "no-cache"}}}
    return config_from_document(document, source="t", base_dir=tmp_path, environ={})


CLIENT = ("198.51.100.7", 5000)


def request(app, path, **scope):
    return asgi.request(app, path, **{"client": CLIENT, **scope})


async def arequest(app, path, **scope):
    return await asgi.arequest(app, path, **{"client": CLIENT, **scope})


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_get_writes_exactly_one_json_line(config, capsys):
    app = build_app(config)
    status, _, body = request(app, "/campaigns/b.jpg", headers=[(b"user-agent", b"curl/8")])
    assert (status, body) == (200, JPEG * 2)
    app.observer.out.flush()
    [line] = lines(capsys)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line.pop("time"))
    assert line.pop("duration_ms") >= 0
    assert re.fullmatch(r"[0-9a-f]+-[0-9]+", line.pop("request_id"))
    assert line == {
        "client": "198.51.100.7",
        "method": "GET",
        "path": "/campaigns/b.jpg",
        "query": "",
        "status": 200,
        "bytes": 200,
        "range": None,
        "not_modified": False,
        "user_agent": "curl/8",
        "folder": "/campaigns",
        "meta_fetch": False,
    }


def test_a_range_a_304_and_a_404_are_logged_as_sent(config, capsys):
    app = build_app(config)
    _, headers, _ = request(app, "/a.jpg")
    etag = dict(headers)[b"etag"]
    assert request(app, "/a.jpg", headers=[(b"range", b"bytes=0-9")])[0] == 206
    assert request(app, "/a.jpg", headers=[(b"if-none-match", etag)])[0] == 304
    assert request(app, "/nothing.jpg")[0] == 404
    app.observer.out.flush()
    found = [
        (line["status"], line["bytes"], line["range"], line["not_modified"], line["folder"])
        for line in lines(capsys)
    ]
    assert found == [
        (200, 100, None, False, "/"),
        (206, 10, "bytes=0-9", False, "/"),
        (304, 0, None, True, "/"),
        (404, len(b"Not Found\n"), None, False, "/"),
    ]


def test_a_valid_request_id_is_echoed_in_the_response_and_the_line(config, capsys):
    app = build_app(config)
    _, headers, _ = request(app, "/a.jpg", headers=[(b"x-request-id", b"abc-123.X:y_z")])
    assert [value for name, value in headers if name == b"x-request-id"] == [b"abc-123.X:y_z"]
    app.observer.out.flush()
    [line] = lines(capsys)
    assert line["request_id"] == "abc-123.X:y_z"


@pytest.mark.parametrize(
    "given", [b"has space", b"x" * 129, b"", b'quote"d', b"semi;colon", "é".encode()]
)
def test_an_invalid_request_id_is_replaced(config, capsys, given):
    app = build_app(config)
    _, headers, _ = request(app, "/a.jpg", headers=[(b"x-request-id", given)])
    [echoed] = [value for name, value in headers if name == b"x-request-id"]
    assert echoed != given
    assert re.fullmatch(rb"[0-9a-f]+-[0-9]+", echoed)
    app.observer.out.flush()
    [line] = lines(capsys)
    assert line["request_id"] == echoed.decode()


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_the_operators_paths_are_not_logged(config, capsys, path):
    app = build_app(config)
    status, headers, _ = request(app, path, client=("127.0.0.1", 5000))
    assert status == (404 if path == "/metrics" else 200)  # [metrics] is off
    assert b"x-request-id" not in dict(headers)
    assert request(app, "/a.jpg")[0] == 200  # a line that is written, to tell the two apart
    app.observer.out.flush()
    assert [line["path"] for line in lines(capsys)] == ["/a.jpg"]


def test_a_reload_that_turns_the_log_off_stops_the_lines(config, capsys):
    app = build_app(config)
    assert request(app, "/a.jpg")[0] == 200
    app.app.config = dataclasses.replace(config, log=LogConfig(access="off"))  # what reload does
    assert request(app, "/campaigns/b.jpg")[0] == 200
    app.observer.out.flush()
    assert [line["path"] for line in lines(capsys)] == ["/a.jpg"]  # flushed by the reload


def test_a_reload_that_turns_the_log_on_starts_the_lines(config, capsys):
    quiet = dataclasses.replace(config, log=LogConfig(access="off"))
    app = build_app(quiet)
    assert request(app, "/a.jpg")[0] == 200
    app.app.config = config
    assert request(app, "/campaigns/b.jpg")[0] == 200
    app.observer.out.flush()
    assert [line["path"] for line in lines(capsys)] == ["/campaigns/b.jpg"]


def test_the_lifespan_shutdown_flushes_the_lines_still_waiting(config, capsys):
    app = build_app(config)

    async def during():
        assert (await arequest(app, "/a.jpg"))[0] == 200
        assert capsys.readouterr().out == ""  # the line waits for its batch

    sent = asyncio.run(asgi.alifespan(app, during))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert [line["path"] for line in lines(capsys)] == ["/a.jpg"]


def test_the_lifespan_shutdown_publishes_the_counts_of_a_worker_among_several(
    config, tmp_path, monkeypatch, capsys
):
    """With several workers a worker's counts reach the others through its file; at
    shutdown they are written at once, not left to a timer the stopped loop never runs."""
    import os

    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    app = build_app(
        dataclasses.replace(config, metrics=dataclasses.replace(config.metrics, enabled=True))
    )

    async def during():
        assert (await arequest(app, "/campaigns/b.jpg"))[0] == 200

    asyncio.run(asgi.alifespan(app, during))
    published = json.loads((folder / f"requests-{os.getpid()}.json").read_text())
    assert ["GET", 200, "/campaigns"] in [row[:3] for row in published["tallies"]]


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        (b"sig=abc123&token=t0ken", "sig=REDACTED&token=REDACTED"),
        (b"expires=99&sig=abc123", "expires=99&sig=REDACTED"),
        (b"v=1&token=t0ken&x=2", "v=1&token=REDACTED&x=2"),
        (b"sig=", "sig=REDACTED"),
        (
            b"hub.mode=subscribe&hub.verify_token=v3r1fy&hub.challenge=7",
            "hub.mode=subscribe&hub.verify_token=REDACTED&hub.challenge=7",
        ),
        (b"design=abc123", "design=abc123"),  # a name that only ends in "sig"
        # percent-encoded names are the names parse_qs, and so verify(), reads
        (b"expires=99&si%67=abc123", "expires=99&si%67=REDACTED"),
        (b"%73ig=abc123&v=1", "%73ig=REDACTED&v=1"),
        (b"tok%65n=t0ken", "tok%65n=REDACTED"),
        (b"v=%41&x=1", "v=%41&x=1"),
    ],
)
def test_a_querys_sig_and_token_values_are_redacted(config, capsys, query, logged):
    app = build_app(config)
    assert request(app, "/a.jpg", query=query)[0] == 200
    app.observer.out.flush()
    output = capsys.readouterr().out
    assert json.loads(output)["query"] == logged
    if logged != "design=abc123":
        assert "abc123" not in output and "t0ken" not in output


def test_the_plain_format_is_one_line_too(config, capsys):
    plain = dataclasses.replace(config, log=LogConfig(access="plain"))
    app = build_app(plain)
    headers = [(b"x-request-id", b"r1"), (b"user-agent", b"curl/8")]
    assert request(app, "/a.jpg", query=b"sig=abc123&v=1", headers=headers)[0] == 200
    app.observer.out.flush()
    line = capsys.readouterr().out
    assert re.fullmatch(
        r'198\.51\.100\.7 "GET /a\.jpg\?sig=REDACTED&v=1" 200 100 [0-9.]+ms "curl/8" / r1\n',
        line,
    )
