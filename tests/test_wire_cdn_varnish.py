"""A real cache in front: Varnish with deploy/varnish.vcl keeps each folder's
policy. Requests reaching the origin are counted by Varnish's own counters
(backend_req: requests sent to the origin; fetch_304: answered 304)."""

import os
import shutil
import subprocess
import time

import httpx
import pytest

from tests.helpers.servers import REPO, free_port, start_server, write_config, write_files

VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"
pytestmark = pytest.mark.skipif(
    not os.path.exists(VARNISHD), reason="varnish not installed (.ci/run installs it)"
)

# The shipped file's backend is the default `media-origin serve` address; the
# tests change its port only.
SHIPPED_BACKEND = '.port = "8080";'

POLICIES = """
[policy."/week"]
cache_control = "max-age=604800"

[policy."/catalog"]
cache_control = "no-cache"

[policy."/invoices"]
cache_control = "private, no-store"
etag = "off"

[policy."/nostore"]
cache_control = "no-store"

[console]
enabled = true
"""


@pytest.fixture
def cdn(tmp_path):
    root = tmp_path / "media"
    names = ("week/promo.jpg", "catalog/list.pdf", "invoices/a.pdf", "nostore/b.pdf")
    write_files(root, {name: b"%PDF-1.4 " + name.encode() for name in names})
    with start_server(write_config(tmp_path, POLICIES), root) as origin:
        vcl = tmp_path / "varnish.vcl"
        shipped = (REPO / "deploy" / "varnish.vcl").read_text()
        assert SHIPPED_BACKEND in shipped
        vcl.write_text(shipped.replace(SHIPPED_BACKEND, f'.port = "{origin.port}";'))
        port, workdir = free_port(), tmp_path / "varnish"
        varnish = subprocess.Popen(
            [
                VARNISHD,
                "-F",
                "-j",
                "none",
                "-a",
                f"127.0.0.1:{port}",
                "-f",
                str(vcl),
                "-n",
                str(workdir),
                "-s",
                "malloc,32m",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            yield Cdn(f"http://127.0.0.1:{port}", workdir)
        finally:
            varnish.terminate()
            varnish.wait(timeout=20)


class Cdn:
    def __init__(self, url, workdir):
        self.url, self.workdir = url, workdir

    def counter(self, name: str) -> int:
        output = subprocess.run(
            ["varnishstat", "-n", str(self.workdir), "-1", "-f", f"MAIN.{name}"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        return int(output.split()[1])

    def get(self, path: str) -> tuple[httpx.Response, int, int]:
        """The response, and how many origin requests and 304s it caused."""
        requests, not_modified = self.counter("backend_req"), self.counter("fetch_304")
        response = httpx.get(self.url + path, timeout=10)
        return (
            response,
            self.counter("backend_req") - requests,
            self.counter("fetch_304") - not_modified,
        )


def test_a_max_age_folder_is_served_from_the_cache(cdn):
    first, reached, _ = cdn.get("/week/promo.jpg")
    assert (first.status_code, reached) == (200, 1)
    second, reached, _ = cdn.get("/week/promo.jpg")
    assert (second.status_code, reached) == (200, 0)
    assert second.content == first.content
    assert second.headers["cache-control"] == "max-age=604800"  # passed on to Meta


@pytest.mark.parametrize("path", ["/invoices/a.pdf", "/nostore/b.pdf"])
def test_private_and_no_store_reach_the_origin_every_time(cdn, path):
    for _ in range(3):
        response, reached, _ = cdn.get(path)
        assert (response.status_code, reached) == (200, 1)


@pytest.mark.parametrize("path", ["/_console/sign-in", "/_console/static/console.css"])
def test_the_consoles_pages_are_never_cached(cdn, path):
    for _ in range(3):
        response, reached, _ = cdn.get(path)
        assert (response.status_code, reached) == (200, 1)
        assert response.headers["cache-control"] == "no-store"


def test_a_no_cache_folder_is_revalidated_with_a_304(cdn):
    first, reached, not_modified = cdn.get("/catalog/list.pdf")
    assert (first.status_code, reached, not_modified) == (200, 1, 0)
    for _ in range(2):
        again, reached, not_modified = cdn.get("/catalog/list.pdf")
        assert (again.status_code, reached, not_modified) == (200, 1, 1)
        assert again.content == first.content


def test_the_shipped_vcl_compiles_as_it_is():
    """The README calls it a working configuration: varnishd -C must accept it unchanged."""
    result = subprocess.run(
        [VARNISHD, "-C", "-f", str(REPO / "deploy" / "varnish.vcl")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert '.host = "127.0.0.1";' in (REPO / "deploy" / "varnish.vcl").read_text()
