"""Running it in production: access log, metrics, health, graceful shutdown, reload."""

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from origin.ops.request_counts import PUBLISH_DELAY
from tests.helpers import media as fx
from tests.helpers.servers import start_server, write_config

TOKEN = "ops-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = """
[api]
token_env = "OPS_TOKEN"

[log]
access = "json"
trusted_proxies = ["127.0.0.1"]

[metrics]
enabled = true

[policy."/campaigns"]
cache_control = "max-age=604800"
"""


JPEG = fx.encoded()


@pytest.fixture(params=["granian", "uvicorn"])
def ops(tmp_path, request):
    root = tmp_path / "media"
    (root / "campaigns").mkdir(parents=True)
    (root / "campaigns" / "promo.jpg").write_bytes(JPEG)
    config = write_config(tmp_path, CONFIG)
    with start_server(config, root, server=request.param, env={"OPS_TOKEN": TOKEN}) as server:
        yield server


def wait_for_lines(server, count, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = server.access_log()
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    return server.access_log()


def test_access_log_lines(ops):
    with ops.client() as http:
        ok = http.get(
            "/campaigns/promo.jpg?v=1&sig=secret",
            headers={
                "X-Request-ID": "req-42",
                "User-Agent": "facebookexternalua",
                "X-Forwarded-For": "203.0.113.9, 127.0.0.1",
            },
        )
        assert ok.headers["x-request-id"] == "req-42"
        http.get("/campaigns/promo.jpg", headers={"If-None-Match": ok.headers["etag"]})
        http.get("/campaigns/promo.jpg", headers={"Range": "bytes=0-9"})
        http.put("/campaigns/new.jpg", content=JPEG, headers=AUTH)
        http.put("/campaigns/bad.gif", content=b"GIF89a", headers=AUTH)
    get, not_modified, partial, upload, refused = wait_for_lines(ops, 5)[:5]
    assert set(get) == {
        "time",
        "client",
        "method",
        "path",
        "query",
        "status",
        "bytes",
        "duration_ms",
        "range",
        "not_modified",
        "user_agent",
        "folder",
        "request_id",
        "meta_fetch",
    }
    assert (get["method"], get["path"], get["status"], get["bytes"]) == (
        "GET",
        "/campaigns/promo.jpg",
        200,
        len(JPEG),
    )
    assert get["client"] == "203.0.113.9"  # from X-Forwarded-For: the peer is trusted
    assert get["query"] == "v=1&sig=REDACTED"
    assert (get["request_id"], get["folder"], get["meta_fetch"]) == ("req-42", "/campaigns", True)
    assert (not_modified["status"], not_modified["not_modified"], not_modified["bytes"]) == (
        304,
        True,
        0,
    )
    assert not_modified["meta_fetch"] is False and not_modified["client"] == "127.0.0.1"
    assert (partial["status"], partial["range"], partial["bytes"]) == (206, "bytes=0-9", 10)
    assert (upload["method"], upload["status"]) == ("PUT", 201)
    assert (refused["method"], refused["status"]) == ("PUT", 415)
    assert all(line["duration_ms"] >= 0 and line["request_id"] for line in (partial, upload))


def metric_values(server) -> dict[tuple, float]:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def delta(before, after, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


def test_metrics_move_by_the_right_amounts(ops):
    before = metric_values(ops)
    with ops.client() as http:
        etag = None
        for _ in range(3):
            etag = http.get("/campaigns/promo.jpg").headers["etag"]
        http.get("/campaigns/promo.jpg", headers={"If-None-Match": etag})
        http.get("/campaigns/missing.jpg")
        http.get("/campaigns/promo.jpg", headers={"User-Agent": "facebookexternalua/1.1"})
        http.put("/campaigns/ok.jpg", content=JPEG, headers=AUTH)
        http.put("/campaigns/no.gif", content=b"GIF89a", headers=AUTH)
    after = metric_values(ops)
    requests = "media_origin_requests_total"
    assert (
        delta(before, after, requests, method="GET", status_class="2xx", folder="/campaigns") == 4
    )
    assert (
        delta(before, after, requests, method="GET", status_class="3xx", folder="/campaigns") == 1
    )
    assert (
        delta(before, after, requests, method="GET", status_class="4xx", folder="/campaigns") == 1
    )
    assert (
        delta(before, after, requests, method="PUT", status_class="2xx", folder="/campaigns") == 1
    )
    assert delta(before, after, "media_origin_not_modified_total", folder="/campaigns") == 1
    assert delta(
        before, after, "media_origin_response_bytes_total", folder="/campaigns"
    ) >= 4 * len(JPEG)
    assert delta(before, after, "media_origin_meta_fetches_total") == 1
    assert delta(before, after, "media_origin_uploads_total", result="stored") == 1
    assert delta(before, after, "media_origin_uploads_total", result="refused") == 1
    assert (
        delta(before, after, "media_origin_upload_rejections_total", reason="unsupported_type") == 1
    )
    assert delta(before, after, "media_origin_request_duration_seconds_count", method="GET") == 6


def test_metrics_behind_a_token(tmp_path):
    (tmp_path / "media").mkdir()
    config = write_config(tmp_path, '[metrics]\nenabled = true\ntoken_env = "OPS_METRICS"\n')
    with start_server(config, tmp_path / "media", env={"OPS_METRICS": "m"}) as server:
        assert httpx.get(server.url + "/metrics").status_code == 401
        allowed = httpx.get(server.url + "/metrics", headers={"Authorization": "Bearer m"})
        assert allowed.status_code == 200 and "media_origin_requests_total" in allowed.text


def test_health_and_readiness(ops):
    with ops.client() as http:
        for path in ("/healthz", "/readyz"):
            response = http.get(path)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            assert response.headers["cache-control"] == "no-store"
        moved = ops.root.with_name("moved")
        ops.root.rename(moved)
        try:
            assert http.get("/readyz").status_code == 503
            assert http.get("/healthz").status_code == 200
        finally:
            moved.rename(ops.root)
        assert http.get("/readyz").status_code == 200


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_sigterm_lets_a_slow_download_finish_then_exits_0(tmp_path, server_name):
    root = tmp_path / "media"
    root.mkdir()
    data = os.urandom(8 * 1024 * 1024)
    (root / "big.mp4").write_bytes(data)
    config = write_config(tmp_path, "[server]\nshutdown_grace = 20\n")
    server = start_server(config, root, server=server_name)
    received = bytearray()
    with httpx.Client(timeout=30) as http, http.stream("GET", server.url + "/big.mp4") as response:
        for number, chunk in enumerate(response.iter_bytes(64 * 1024)):
            received += chunk
            if number == 2:
                server.process.send_signal(signal.SIGTERM)
            time.sleep(0.01)  # a slow reader: about 1.3 s for the whole file
    assert bytes(received) == data
    assert server.process.wait(timeout=30) == 0
    server.stop()


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_sighup_reloads_a_valid_config_and_refuses_an_invalid_one(tmp_path, server_name):
    root = tmp_path / "media"
    (root / "catalog").mkdir(parents=True)
    (root / "catalog" / "list.pdf").write_bytes(b"%PDF-1.4")
    config = write_config(tmp_path, '[policy."/catalog"]\ncache_control = "max-age=60"\n')
    with start_server(config, root, server=server_name) as server, server.client() as http:

        def cache_control() -> str:
            return http.get("/catalog/list.pdf").headers["cache-control"]

        assert cache_control() == "max-age=60"
        config.write_text(config.read_text().replace("max-age=60", "max-age=120"))
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while cache_control() != "max-age=120" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cache_control() == "max-age=120"

        config.write_text(config.read_text().replace("max-age=120", "max_age=1"))
        server.process.send_signal(signal.SIGHUP)
        time.sleep(5)  # longer than granian takes to respawn its workers
        assert cache_control() == "max-age=120"
        assert server.process.poll() is None
        assert "reload refused" in server.stderr()


def test_check_reports_a_stored_file_on_a_service_path(tmp_path):
    import subprocess
    import sys

    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "metrics").write_text("a stored file named like the service path")
    config = write_config(tmp_path, "")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "media-origin"),
            "check",
            "--json",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert '"reserved_path"' in result.stdout


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_metrics_add_up_across_workers(tmp_path, server_name):
    import sys

    root = tmp_path / "media"
    root.mkdir()
    (root / "a.pdf").write_bytes(b"%PDF-1.4")
    config = write_config(tmp_path, "[metrics]\nenabled = true\n")
    command = [
        str(Path(sys.executable).parent / "media-origin"),
        "serve",
        "--config",
        str(config),
        "--workers",
        "2",
        "--server",
        server_name,
    ]
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    folders_before = metrics_folders(temporary)
    with start_server(config, root, command=command, env={"TMPDIR": str(temporary)}) as server:
        for _ in range(20):  # new connections: both workers take some
            assert httpx.get(server.url + "/a.pdf").status_code == 200
        key = (
            "media_origin_requests_total",
            (("folder", "/"), ("method", "GET"), ("status_class", "2xx")),
        )
        # Another worker's counts reach a scrape within PUBLISH_DELAY (one second).
        assert wait_for_metric(server, key, 20, PUBLISH_DELAY + 2) == 20
        time.sleep(PUBLISH_DELAY + 0.5)  # and nothing is counted twice
        assert metric_values(server)[key] == 20
        [folder] = metrics_folders(temporary) - folders_before
        assert list(folder.glob("requests-*.json"))  # the workers' published counts
        # A reload replaces the workers: what the old ones counted stays counted.
        # (That a stopping worker publishes at once, not by its timer, is
        # test_the_lifespan_shutdown_publishes_the_counts_of_a_worker_among_several:
        # here the old workers drain for longer than the timer takes.)
        for _ in range(10):
            assert httpx.get(server.url + "/a.pdf").status_code == 200
        server.process.send_signal(signal.SIGHUP)
        assert wait_for_metric(server, key, 30, 30) == 30
    assert not folder.exists()  # removed when the server exited


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_every_request_is_one_line_across_a_sighup_and_a_sigterm(tmp_path, server_name):
    """N requests, N lines: through a reload (granian replaces its worker, uvicorn
    reloads in place) and a SIGTERM sent at once after the last answer, while its
    line is still waiting in the batch (lines wait up to half a second)."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path / "media"
    root.mkdir()
    (root / "a.pdf").write_bytes(b"%PDF-1.4 one line each")
    config = write_config(tmp_path, '[log]\naccess = "json"\n')
    server = start_server(config, root, server=server_name)
    try:

        def burst(number: int) -> list[int]:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                return [http.get(f"/a.pdf?n={number}-{i}").status_code for i in range(25)]

        with ThreadPoolExecutor(4) as pool:
            bursts = [pool.submit(burst, number) for number in range(16)]
            bursts[3].result()  # a quarter done, the rest in flight or waiting
            server.process.send_signal(signal.SIGHUP)
            statuses = [status for done in bursts for status in done.result()]
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        assert statuses == [200] * 400
        logged = [line["query"] for line in server.access_log() if line["path"] == "/a.pdf"]
        assert sorted(logged) == sorted(f"n={n}-{i}" for n in range(16) for i in range(25))
    finally:
        server.stop()


def wait_for_metric(server, key: tuple, expected: float, timeout: float) -> float | None:
    """The sample's value once it is ``expected``, or the last value seen at ``timeout``."""
    deadline = time.monotonic() + timeout
    while (value := metric_values(server).get(key)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def metrics_folders(temporary: Path) -> set[Path]:
    """The multi-process metrics folders ``serve --workers N`` has made in its temp
    dir (the test's own: another test's server may be making one at the same time)."""
    return set(temporary.glob("media-origin-metrics-*"))
