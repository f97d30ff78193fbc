"""media-origin explain against a real HTTP server on 127.0.0.1 that answers
with chosen statuses, headers and bodies, and against stored paths."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import media_fixtures as fx
import pytest

from conftest import start_server, write_config

SCRIPT = Path(sys.executable).parent / "media-origin"
LM = "Tue, 22 Feb 2022 22:22:22 GMT"


JPEG, PNG, CMYK = fx.encoded(), fx.encoded(fmt="PNG"), fx.encoded("CMYK")
HTML = b"<!DOCTYPE html><html><body>Not Found</body></html>"

# path -> (status, headers, body); Content-Length is added unless the headers say "close"
ROUTES = {
    "/max-age.jpg": (200, {"Content-Type": "image/jpeg", "Cache-Control": "max-age=604800"}, JPEG),
    "/no-cache-lm.jpg": (
        200,
        {"Content-Type": "image/jpeg", "Cache-Control": "no-cache", "Last-Modified": LM},
        JPEG,
    ),
    "/no-cache.jpg": (200, {"Content-Type": "image/jpeg", "Cache-Control": "no-cache"}, JPEG),
    "/no-store.jpg": (200, {"Content-Type": "image/jpeg", "Cache-Control": "no-store"}, JPEG),
    "/private.jpg": (200, {"Content-Type": "image/jpeg", "Cache-Control": "private"}, JPEG),
    "/bare.jpg": (200, {"Content-Type": "image/jpeg"}, JPEG),
    "/etag-only.jpg": (200, {"Content-Type": "image/jpeg", "ETag": '"33a64df5"'}, JPEG),
    "/etag-and-cc.jpg": (
        200,
        {"Content-Type": "image/jpeg", "ETag": '"33a64df5"', "Cache-Control": "max-age=60"},
        JPEG,
    ),
    "/redirect.jpg": (302, {"Location": "/max-age.jpg"}, b""),
    "/missing.jpg": (404, {"Content-Type": "text/html"}, HTML),
    "/wrong-type.jpg": (200, {"Content-Type": "image/jpeg", "Cache-Control": "max-age=60"}, PNG),
    "/opus": (
        200,
        {"Content-Type": "audio/opus", "Cache-Control": "max-age=60"},
        b"OggS" + bytes(60),
    ),
    "/html-200.jpg": (200, {"Content-Type": "text/html", "Cache-Control": "max-age=60"}, HTML),
    "/cmyk.jpg": (200, {"Content-Type": "image/jpeg", "Cache-Control": "max-age=60"}, CMYK),
    "/streamed.jpg": (
        200,
        {"Content-Type": "image/jpeg", "Cache-Control": "max-age=60", "close": "1"},
        JPEG,
    ),
    "/big.jpg": (
        200,
        {"Content-Type": "image/jpeg", "Cache-Control": "max-age=60"},
        JPEG[:-2] + bytes(6_200_000),
    ),
    "/no-extension": (200, {"Content-Type": "image/jpeg", "Cache-Control": "max-age=60"}, JPEG),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status, headers, body = ROUTES[self.path.split("?")[0]]
        self.send_response(status)
        for name, value in headers.items():
            if name != "close":
                self.send_header(name, value)
        if "close" in headers:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def explain(target, *options, cwd=None):
    result = subprocess.run(
        [str(SCRIPT), "explain", *options, target],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    return result


def explain_json(target, *options):
    result = explain(target, "--json", *options)
    return result.returncode, json.loads(result.stdout)


@pytest.mark.parametrize(
    ("path", "exit_code", "cached", "ttl", "revalidates", "codes"),
    [
        ("/max-age.jpg", 0, True, 604800, False, set()),
        ("/no-cache-lm.jpg", 0, True, None, True, set()),
        ("/no-cache.jpg", 1, True, None, True, {"no_cache_without_last_modified"}),
        ("/no-store.jpg", 0, False, None, False, {"not_cacheable"}),
        ("/private.jpg", 0, False, None, False, {"not_cacheable"}),
        ("/bare.jpg", 0, False, None, False, {"not_cacheable"}),
        ("/etag-only.jpg", 0, None, None, False, set()),
        ("/etag-and-cc.jpg", 0, True, 60, False, {"etag_ignored"}),
    ],
)
def test_each_caching_combination_of_the_seed(
    site, path, exit_code, cached, ttl, revalidates, codes
):
    code, explanation = explain_json(site + path)
    assert code == exit_code
    assert explanation["status"] == 200
    assert explanation["policy"] is None
    meta = explanation["meta"]
    assert (meta["cached"], meta["ttl_seconds"], meta["revalidates"]) == (cached, ttl, revalidates)
    assert {p["code"] for p in explanation["problems"]} == codes


@pytest.mark.parametrize(
    ("path", "status", "codes"),
    [
        ("/redirect.jpg", 302, {"redirect"}),
        ("/missing.jpg", 404, {"http_error", "html_response"}),
        ("/wrong-type.jpg", 200, {"content_type_mismatch"}),
        ("/opus", 200, {"unsupported_type"}),
        ("/html-200.jpg", 200, {"html_response"}),
        ("/cmyk.jpg", 200, {"image_mode"}),  # a check problem of the fetched bytes
        ("/big.jpg", 200, {"too_large"}),
    ],
)
def test_what_makes_metas_fetch_fail(site, path, status, codes):
    code, explanation = explain_json(site + path)
    assert code == 1
    assert explanation["status"] == status
    assert codes <= {p["code"] for p in explanation["problems"]}
    assert all(set(p) == {"code", "level", "message"} for p in explanation["problems"])


def test_a_response_without_content_length_is_a_warning(site):
    code, explanation = explain_json(site + "/streamed.jpg")
    assert code == 0
    assert {p["code"]: p["level"] for p in explanation["problems"]} == {
        "no_content_length": "warning"
    }


def test_a_url_without_an_extension_is_judged_by_its_content_type(site):
    code, explanation = explain_json(site + "/no-extension?sig=abc")
    assert code == 0 and explanation["problems"] == []


def test_a_host_that_does_not_answer(tmp_path):
    from conftest import free_port

    code, explanation = explain_json(f"http://127.0.0.1:{free_port()}/a.jpg")
    assert code == 1
    assert explanation["problems"][0]["code"] == "http_error"


def test_json_has_the_issue_fields(site):
    _, explanation = explain_json(site + "/max-age.jpg")
    assert set(explanation) == {"target", "status", "headers", "policy", "meta", "problems"}
    assert set(explanation["meta"]) == {"cached", "ttl_seconds", "revalidates", "summary"}
    assert explanation["headers"]["cache-control"] == "max-age=604800"


def test_human_output(site):
    result = explain(site + "/no-cache.jpg")
    assert result.returncode == 1
    assert "HTTP 200" in result.stdout
    assert "Meta: cached, and replaced when Last-Modified changes" in result.stdout
    assert "error: no_cache_without_last_modified:" in result.stdout


class TestStoredPaths:
    @pytest.fixture
    def setup(self, tmp_path):
        root = tmp_path / "media"
        (root / "campaigns").mkdir(parents=True)
        (root / "campaigns" / "promo.jpg").write_bytes(JPEG)
        (root / "invoices").mkdir()
        (root / "invoices" / "a.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        config = write_config(
            tmp_path,
            '[policy."/campaigns"]\ncache_control = "max-age=604800, immutable"\n'
            '[policy."/invoices"]\ncache_control = "private, no-store"\netag = "off"\n',
        )
        return root, config

    def test_headers_are_exactly_what_the_server_sends(self, setup):
        root, config = setup
        code, explanation = explain_json("/campaigns/promo.jpg?v=1", "--config", str(config))
        assert code == 0
        assert explanation["policy"] == "/campaigns"
        assert explanation["meta"]["ttl_seconds"] == 604800
        with start_server(config, root) as server, server.client() as http:
            sent = http.get("/campaigns/promo.jpg").headers
        per_request = ("date", "server", "x-request-id")
        sent = {k: v for k, v in sent.items() if k not in per_request}
        assert explanation["headers"] == sent

    def test_a_private_folder(self, setup):
        _, config = setup
        code, explanation = explain_json("/invoices/a.pdf", "--config", str(config))
        assert code == 0
        assert explanation["policy"] == "/invoices"
        assert explanation["meta"]["cached"] is False
        assert "etag" not in explanation["headers"]

    @pytest.mark.parametrize("target", ["/missing.jpg", "/../etc/passwd", "/campaigns/"])
    def test_nothing_served_there(self, setup, target):
        _, config = setup
        code, explanation = explain_json(target, "--config", str(config))
        assert code == 1
        assert explanation["status"] == 404
