"""``Health``: /healthz, /readyz and /metrics, driven in-process through
``build_app`` (the app as servers run it)."""

import shutil

import pytest

from origin.app import build_app
from origin.config import config_from_document
from tests.helpers import asgi

PROMETHEUS = b"text/plain; version=1.0.0; charset=utf-8"
TOKEN = "metrics-token-1234"
OUTSIDE = ("203.0.113.9", 1234)
LOOPBACK = ("127.0.0.1", 1234)


def app_for(tmp_path, document=None, environ=None):
    (tmp_path / "media").mkdir(exist_ok=True)
    config = config_from_document(
        document or {}, source="t", base_dir=tmp_path, environ=environ or {}
    )
    return build_app(config)


def request(app, path, method="GET", headers=(), client=LOOPBACK):
    """(status, headers as a dict, body)."""
    status, headers, body = asgi.request(app, path, method=method, headers=headers, client=client)
    return status, dict(headers), body


def plain_headers(body: bytes, *extra) -> dict:
    return {
        b"content-type": b"text/plain; charset=utf-8",
        b"content-length": str(len(body)).encode(),
        b"cache-control": b"no-store",
        b"x-content-type-options": b"nosniff",
        **dict(extra),
    }


def test_healthz_is_ok(tmp_path):
    app = app_for(tmp_path)
    assert request(app, "/healthz") == (200, plain_headers(b"ok\n"), b"ok\n")


def test_a_head_of_healthz_has_no_body(tmp_path):
    app = app_for(tmp_path)
    assert request(app, "/healthz", "HEAD") == (200, plain_headers(b"ok\n"), b"")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_the_operators_paths_answer_reads_only(tmp_path, path, method):
    app = app_for(tmp_path)
    body = b"Method Not Allowed\n"
    assert request(app, path, method) == (
        405,
        plain_headers(body, (b"allow", b"GET, HEAD")),
        body,
    )


def test_readyz_is_ready_on_a_writable_root(tmp_path):
    app = app_for(tmp_path)
    assert request(app, "/readyz") == (200, plain_headers(b"ready\n"), b"ready\n")


def test_readyz_is_a_503_when_the_root_is_gone(tmp_path):
    app = app_for(tmp_path)
    shutil.rmtree(tmp_path / "media")  # with the hash index the storage made in it
    body = b"storage not reachable\n"
    assert request(app, "/readyz") == (503, plain_headers(body), body)


def test_metrics_off_is_a_404(tmp_path):
    app = app_for(tmp_path)
    assert request(app, "/metrics") == (404, plain_headers(b"Not Found\n"), b"Not Found\n")


ON = {"metrics": {"enabled": True}}


def test_metrics_without_a_token_refuse_a_client_that_is_not_loopback(tmp_path):
    app = app_for(tmp_path, ON)
    body = b"Forbidden: /metrics answers loopback only\n"
    assert request(app, "/metrics", client=OUTSIDE) == (403, plain_headers(body), body)


@pytest.mark.parametrize("client", [None, ("not-an-address", 1)])
def test_metrics_without_a_token_refuse_a_client_of_unknown_address(tmp_path, client):
    app = app_for(tmp_path, ON)
    assert request(app, "/metrics", client=client)[0] == 403


@pytest.mark.parametrize("client", [LOOPBACK, ("::1", 1234), ("127.8.9.10", 1)])
def test_metrics_without_a_token_answer_loopback(tmp_path, client):
    app = app_for(tmp_path, ON)
    request(app, "/missing.jpg", client=OUTSIDE)  # a request counted, under its folder
    status, headers, body = request(app, "/metrics", client=client)
    assert status == 200
    assert headers == {
        b"content-type": PROMETHEUS,
        b"content-length": str(len(body)).encode(),
        b"cache-control": b"no-store",
    }
    assert b'media_origin_requests_total{folder="/",method="GET",status_class="4xx"}' in body


WITH_TOKEN = {"metrics": {"enabled": True, "token_env": "METRICS_TOKEN"}}
CHALLENGE = (b"www-authenticate", b'Bearer realm="media-origin"')


@pytest.mark.parametrize(
    "authorization",
    [None, b"Bearer wrong", f"Bearer {TOKEN}x".encode(), f"bearer{TOKEN}".encode(), b""],
)
@pytest.mark.parametrize("client", [LOOPBACK, OUTSIDE])
def test_metrics_with_a_token_refuse_a_missing_or_wrong_bearer(tmp_path, authorization, client):
    """With a token, loopback is no longer enough: the token is asked of everyone."""
    app = app_for(tmp_path, WITH_TOKEN, {"METRICS_TOKEN": TOKEN})
    headers = [] if authorization is None else [(b"authorization", authorization)]
    body = b"Unauthorized\n"
    assert request(app, "/metrics", headers=headers, client=client) == (
        401,
        plain_headers(body, CHALLENGE),
        body,
    )


@pytest.mark.parametrize("client", [LOOPBACK, OUTSIDE])
def test_metrics_with_the_right_bearer_answer(tmp_path, client):
    app = app_for(tmp_path, WITH_TOKEN, {"METRICS_TOKEN": TOKEN})
    headers = [(b"authorization", f"Bearer {TOKEN}".encode())]
    status, response_headers, body = request(app, "/metrics", headers=headers, client=client)
    assert status == 200
    assert response_headers[b"content-type"] == PROMETHEUS
    assert b"# TYPE media_origin_requests_total counter" in body
