"""A stored file whose type can run script (HTML, SVG, XML: no upload accepts
them, but storage filled by other means can hold them) is served inside a
sandbox, so it can never act as this origin (the console's); every other file
is served exactly as before."""

import pytest

from tests.helpers import media as fx
from tests.helpers.servers import start_server, write_config


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sandbox")
    root = folder / "media"
    root.mkdir()
    (root / "page.html").write_text("<script>document.cookie</script>")
    (root / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')
    (root / "feed.xml").write_text("<?xml version='1.0'?><feed/>")
    (root / "page.xhtml").write_text("<html xmlns='http://www.w3.org/1999/xhtml'/>")
    fx.image(root / "photo.jpg")
    with start_server(write_config(folder, ""), root) as server:
        yield server


@pytest.mark.parametrize("name", ["page.html", "logo.svg", "feed.xml"])
def test_a_script_capable_file_is_served_in_a_sandbox(origin, name):
    for method, headers in (("GET", {}), ("HEAD", {}), ("GET", {"Range": "bytes=0-3"})):
        answer = origin.client().request(method, f"/{name}", headers=headers)
        assert answer.status_code in (200, 206), (name, answer.status_code)
        assert answer.headers["content-security-policy"] == "sandbox", (name, method)
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_name_this_origin_types_as_bytes_is_never_rendered(origin):
    """.xhtml is application/octet-stream here: with nosniff, a download."""
    answer = origin.client().get("/page.xhtml")
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_media_is_served_as_before(origin):
    answer = origin.client().get("/photo.jpg")
    assert answer.status_code == 200 and "content-security-policy" not in answer.headers
