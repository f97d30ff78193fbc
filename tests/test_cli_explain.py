"""media-origin explain against a real HTTP server on 127.0.0.1 that answers
with chosen statuses, headers and bodies, and against stored paths."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import media as fx
from tests.helpers.servers import start_server, write_config

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
        ("/etag-and-cc.jpg", 0, True, 60, False, set()),
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
    from tests.helpers.servers import free_port

    code, explanation = explain_json(f"http://127.0.0.1:{free_port()}/a.jpg")
    assert code == 1
    assert explanation["status"] is None  # no HTTP answer: not a made-up "HTTP 0"
    assert explanation["problems"][0]["code"] == "http_error"


def test_a_refused_connection_is_one_line(tmp_path):
    from tests.helpers.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/a.jpg"
    result = explain(url)
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert (
        line.startswith(url)
        and "cannot connect" in line
        and "check that a server runs there" in line
    )
    assert "HTTP 0" not in line and "10 minutes" not in line


@pytest.mark.parametrize(
    ("path", "says"),
    [("/missing.jpg", "HTTP 404"), ("/redirect.jpg", "HTTP 302 redirect to /max-age.jpg")],
)
def test_a_non_2xx_answer_is_one_line(site, path, says):
    result = explain(site + path)
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(site + path) and says in line
    assert "Meta's fetch" in line or "does not follow redirects" in line
    assert "10 minutes" not in result.stdout and "content-type:" not in result.stdout


def test_a_non_2xx_answer_in_json_caches_nothing(site):
    code, explanation = explain_json(site + "/missing.jpg")
    assert code == 1 and explanation["meta"]["cached"] is False
    assert "10 minutes" not in explanation["meta"]["summary"]


def test_a_scheme_other_than_http_is_bad_usage(site):
    result = explain("ftp://127.0.0.1/a.jpg")
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "http:// and https://" in line


def test_json_has_the_issue_fields(site):
    _, explanation = explain_json(site + "/max-age.jpg")
    assert set(explanation) == {"target", "status", "headers", "policy", "meta", "problems"}
    assert set(explanation["meta"]) == {
        "cached",
        "ttl_seconds",
        "revalidates",
        "summary",
        "etag_ignored",
    }
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

    @pytest.mark.parametrize("target", ["/missing.jpg", "/../no-such-dir/passwd", "/campaigns/"])
    def test_nothing_served_there(self, setup, target):
        _, config = setup
        code, explanation = explain_json(target, "--config", str(config))
        assert code == 1
        assert explanation["status"] == 404

    def test_explaining_leaves_the_root_as_it_was(self, setup):
        """A diagnostic changes nothing: an upload in flight (a folder without its
        lock, as a server's would look for a moment) is not removed as an orphan,
        and no hash index is created."""
        root, config = setup
        in_flight = root / ".media-origin" / "uploads" / "1234-abcd"
        in_flight.mkdir(parents=True)
        (in_flight / "video.part").write_bytes(b"half of an upload")
        before = sorted(str(path.relative_to(root)) for path in root.rglob("*"))
        code, explanation = explain_json("/campaigns/promo.jpg", "--config", str(config))
        assert code == 0 and explanation["status"] == 200
        assert sorted(str(path.relative_to(root)) for path in root.rglob("*")) == before

    def test_a_missing_stored_path_is_one_line(self, setup):
        _, config = setup
        result = explain("/campaigns/nope.jpg", "--config", str(config))
        assert result.returncode == 1
        (line,) = result.stdout.splitlines()
        assert "HTTP 404" in line and "/campaigns/nope.jpg" in line and "upload" in line

    @pytest.mark.parametrize("relative", [False, True])
    def test_a_file_on_disk_under_the_root_is_its_stored_path(self, setup, relative):
        root, config = setup
        file = root / "campaigns" / "promo.jpg"
        target = "campaigns/promo.jpg" if relative else str(file)
        result = subprocess.run(
            [str(SCRIPT), "explain", "--json", "--config", str(config), target],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=root,
        )
        assert result.returncode == 0, result.stderr
        explanation = json.loads(result.stdout)
        assert explanation["target"] == "/campaigns/promo.jpg"
        assert explanation["status"] == 200 and explanation["policy"] == "/campaigns"

    def test_a_file_on_disk_outside_the_root_is_bad_usage(self, setup, tmp_path):
        _, config = setup
        outside = tmp_path / "elsewhere.jpg"
        outside.write_bytes(JPEG)
        result = explain(str(outside), "--config", str(config))
        assert result.returncode == 2 and result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert "not under the storage root" in line and "media-origin check" in line


def test_a_healthy_link_under_the_shipped_config_has_no_problem(tmp_path):
    """The shipped config.toml's folder policies (max-age, Last-Modified, a strong
    ETag) are what Meta should get: nothing to flag, the ETag included."""
    from tests.helpers.servers import REPO

    root = tmp_path / "media"
    (root / "campaigns").mkdir(parents=True)
    (root / "campaigns" / "promo.jpg").write_bytes(JPEG)
    shipped = (REPO / "config.toml").read_text()
    config = tmp_path / "config.toml"
    config.write_text(shipped.replace('root = "media"', f'root = "{root}"'))
    with start_server(config, root) as server:
        code, explanation = explain_json(f"{server.url}/campaigns/promo.jpg")
        human = explain(f"{server.url}/campaigns/promo.jpg")
    assert code == 0 and explanation["problems"] == []
    assert explanation["meta"]["etag_ignored"] is True
    assert "problems: none" in human.stdout and "etag" not in human.stdout.split("Meta:")[1]
