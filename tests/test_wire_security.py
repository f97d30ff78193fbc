"""Nothing outside the storage root, nothing hidden, no listings, only GET and
HEAD, and every error a short text/plain body (issue 2, point 9)."""

import os

import pytest

TRAVERSALS = [
    "/../outside.txt",
    "/../../../../etc/passwd",
    "/%2e%2e/outside.txt",
    "/%2E%2E/%2E%2E/etc/passwd",
    "/..%2foutside.txt",
    "/..%2Foutside.txt",
    "/%252e%252e/outside.txt",
    "/%252e%252e%252foutside.txt",
    "/..%5coutside.txt",
    "/..\\outside.txt",
    "/campaigns/../../outside.txt",
    "/hello.txt%00.jpg",
    "/hello.txt%00",
    "//etc/passwd",
    "/%2fetc/passwd",
    "/etc/passwd",
    "http://x/../outside.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_never_reaches_outside(standard_server, target):
    status, body = standard_server.raw_get(target)
    assert status in (400, 404)
    assert b"outside the root" not in body and b"root:" not in body


@pytest.mark.parametrize(
    "target", ["/.secret", "/.git/config", "/folder/.hidden.jpg", "/%2esecret", "/.git/"]
)
def test_dotfiles_are_not_served(standard_server, target):
    assert standard_server.raw_get(target)[0] == 404


@pytest.mark.parametrize("target", ["/", "/campaigns", "/campaigns/", "/campaigns/2026/"])
def test_folders_are_not_listed(standard_server, target):
    status, body = standard_server.raw_get(target)
    assert status == 404
    assert b"promo" not in body


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"])
def test_other_methods_get_405_with_allow(standard_server, method):
    status, _ = standard_server.raw_get("/hello.txt", method)
    assert status == 405
    with standard_server.client() as http:
        if method in ("PATCH", "OPTIONS"):
            assert http.request(method, "/hello.txt").headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_without_an_api_token_writes_are_refused(client, method):
    response = client.request(method, "/hello.txt", content=b"x")
    assert response.status_code == 403
    assert client.get("/hello.txt").text == "hello, world\n"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/missing.jpg", 404), ("PATCH", "/hello.txt", 405), ("GET", "/.secret", 404)],
)
def test_error_bodies_are_short_plain_text_never_html(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert len(response.content) < 64
    assert b"<" not in response.content


def test_head_of_a_missing_file_has_no_body(client):
    response = client.head("/missing.jpg")
    assert response.status_code == 404
    assert response.content == b""


def test_symlinks_inside_the_root_are_served_outside_are_not(serve, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    server = serve(files={"real/a.txt": "inside", ".private/p.txt": "private"})
    root = server.root
    os.symlink(root / "real" / "a.txt", root / "link-inside.txt")
    os.symlink("real", root / "linked-folder")
    os.symlink(outside, root / "link-outside.txt")
    os.symlink(tmp_path, root / "escape")
    os.symlink(root / ".private" / "p.txt", root / "link-to-dotfile.txt")
    os.symlink("/etc/passwd", root / "passwd")
    with server.client() as http:
        assert http.get("/link-inside.txt").text == "inside"
        assert http.get("/linked-folder/a.txt").text == "inside"
        for path in ("/link-outside.txt", "/escape/secret.txt", "/link-to-dotfile.txt", "/passwd"):
            response = http.get(path)
            assert response.status_code == 404, path
            assert b"secret" not in response.content and b"root:" not in response.content


def test_a_symlink_retargeted_outside_is_refused_at_once(serve, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    server = serve(files={"a.txt": "inside"})
    link = server.root / "link.txt"
    os.symlink(server.root / "a.txt", link)
    with server.client() as http:
        assert http.get("/link.txt").text == "inside"
        os.unlink(link)
        os.symlink(outside, link)
        assert http.get("/link.txt").status_code == 404
