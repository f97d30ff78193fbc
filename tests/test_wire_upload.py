"""The upload API over a real socket: both upload forms, every refusal, force,
replacement, concurrency, disconnects, limits, DELETE, listings, signed and
versioned links."""

import json
import os
import re
import socket
import threading
import time

import httpx
import pytest

from origin.serve.links import signed_query
from tests.helpers import media as fx
from tests.helpers.servers import SETUP_IDS, SETUPS, start_server, start_setup

TOKEN = "test-token-1234"
KEY = "test-signing-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = """
[server]
base_url = "https://media.example.com"

[api]
token_env = "TEST_MEDIA_TOKEN"
signing_key_env = "TEST_MEDIA_KEY"

[policy."/campaigns"]
cache_control = "max-age=86400"
versioned_links_immutable = true

[policy."/invoices"]
cache_control = "private, no-store"
signed = true
"""


def jpeg(color=(1, 2, 3)) -> bytes:
    return fx.encoded(color=color)


def webp(size) -> bytes:
    return fx.encoded("RGBA", size, "WEBP", (0, 0, 0, 255))


def pdf(text: str) -> bytes:
    return f"%PDF-1.4\n% {text}\n%%EOF\n".encode()


@pytest.fixture(params=SETUPS, ids=SETUP_IDS)
def api(tmp_path, request):
    env = {"TEST_MEDIA_TOKEN": TOKEN, "TEST_MEDIA_KEY": KEY}
    with start_setup(tmp_path, request, CONFIG, env) as server:
        yield server


def test_put_new_then_replace(api):
    with api.client() as http:
        first = http.put("/campaigns/promo.jpg", content=jpeg(), headers=AUTH)
        assert first.status_code == 201
        body = first.json()
        assert set(body) == {
            "path",
            "url",
            "versioned_url",
            "size",
            "content_type",
            "whatsapp_type",
            "etag",
            "last_modified",
            "warnings",
        }
        assert body["path"] == "/campaigns/promo.jpg"
        assert body["url"] == "https://media.example.com/campaigns/promo.jpg"
        assert body["versioned_url"].startswith(body["url"] + "?v=")
        assert (body["size"], body["content_type"], body["whatsapp_type"]) == (
            len(jpeg()),
            "image/jpeg",
            "image",
        )
        assert body["warnings"] == []
        served = http.get("/campaigns/promo.jpg")
        assert served.content == jpeg()
        assert served.headers["etag"] == body["etag"]
        assert served.headers["last-modified"] == body["last_modified"]

        second = http.put("/campaigns/promo.jpg", content=jpeg((9, 9, 9)), headers=AUTH)
        assert second.status_code == 200
        assert second.json()["etag"] != body["etag"]
        assert second.json()["versioned_url"] != body["versioned_url"]
        assert http.get("/campaigns/promo.jpg").content == jpeg((9, 9, 9))
    assert api.stored() == {"campaigns/promo.jpg"}


def test_put_with_a_matching_content_type_header_and_a_new_folder(api):
    with api.client() as http:
        response = http.put(
            "/docs/2026/terms.pdf",
            content=pdf("t"),
            headers={**AUTH, "Content-Type": "application/pdf"},
        )
        assert response.status_code == 201
        assert http.get("/docs/2026/terms.pdf").content == pdf("t")


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": TOKEN}, 401)],
)
def test_writes_need_the_token(api, headers, status):
    with api.client() as http:
        response = http.put("/a.jpg", content=jpeg(), headers=headers)
        assert response.status_code == status
        assert response.headers["www-authenticate"] == 'Bearer realm="media-origin"'
        assert http.delete("/a.jpg", headers=headers).status_code == status
    assert api.stored() == set()


REFUSALS = [
    ("/big.jpg", b"\xff\xd8\xff\xe0" + bytes(5_100_000), {}, 413, "too_large"),
    ("/anim.gif", b"GIF89a" + bytes(20), {}, 415, "unsupported_type"),
    ("/fake.jpg", webp((512, 512)), {}, 415, "content_type_mismatch"),
    ("/page.jpg", b"<!DOCTYPE html><html><script>x()</script></html>", {}, 415, "active_content"),
    ("/stickers/small.webp", webp((100, 100)), {}, 422, "sticker_dimensions"),
    ("/a.jpg", jpeg(), {"Content-Type": "image/png"}, 415, "content_type_mismatch"),
    ("/.env.jpg", jpeg(), {}, 400, "invalid_path"),
    ("/a/../b.jpg", jpeg(), {}, 400, "invalid_path"),
]


@pytest.mark.parametrize(("path", "body", "headers", "status", "code"), REFUSALS)
def test_refusals_store_nothing(api, path, body, headers, status, code):
    with api.client() as http:
        if ".." in path:  # httpx would normalise it away: send it as written
            reply = api.raw(
                f"PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            assert reply.split(b" ", 2)[1] == str(status).encode()
            error = json.loads(reply.partition(b"\r\n\r\n")[2])
        else:
            response = http.put(path, content=body, headers={**AUTH, **headers})
            assert response.status_code == status
            assert response.headers["content-type"] == "application/json"
            error = response.json()
    assert error["error"] == code
    assert any(fix in error["message"] for fix in FIXES), error["message"]
    assert api.stored() == set()


# Words a refusal uses when it says what to do, not only what is wrong.
FIXES = ("convert ", "ffmpeg ", "cwebp ", "send ", "rename ", "curl ", "choose ", "give the file")


def test_refusal_messages_name_the_rule_and_the_numbers(api):
    with api.client() as http:
        error = http.put(
            "/big.jpg", content=b"\xff\xd8\xff" + bytes(6_200_000), headers=AUTH
        ).json()
    assert error["message"].startswith(
        "image is 6.2 MB (6,200,003 bytes, its Content-Length); the limit here is 5 MB: "
        "make it smaller, e.g. convert big.jpg -resize"
    )


def test_a_webp_sent_as_an_image_says_to_send_a_jpeg_or_png(api):
    with api.client() as http:
        sticker = http.put("/photo.webp", content=webp((300, 300)), headers=AUTH)
        renamed = http.put("/photo.jpg", content=webp((300, 300)), headers=AUTH)
    assert (sticker.status_code, sticker.json()["error"]) == (422, "sticker_dimensions")
    assert sticker.json()["message"].startswith("WebP is only for stickers")
    assert "300x300 px" in sticker.json()["message"]
    assert "send it as a JPEG or PNG (convert photo.webp photo.jpg)" in sticker.json()["message"]
    assert (renamed.status_code, renamed.json()["error"]) == (415, "content_type_mismatch")
    assert "WebP is only for stickers; send it as a JPEG or PNG" in renamed.json()["message"]
    assert api.stored() == set()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # curl --data-binary's default


def test_curl_data_binary_is_told_how_to_send_a_file(api):
    with api.client() as http:
        put = http.put("/campaigns/a.jpg", content=jpeg(), headers={**AUTH, **FORM})
        post = http.post("/campaigns/a.jpg", content=jpeg(), headers={**AUTH, **FORM})
        folder = http.post("/campaigns/", content=jpeg(), headers={**AUTH, **FORM})
    assert (put.status_code, put.json()["error"]) == (415, "content_type_mismatch")
    assert "curl -T a.jpg URL" in put.json()["message"]
    assert "--data-binary @a.jpg with -H 'Content-Type: image/jpeg'" in put.json()["message"]
    assert (post.status_code, post.json()["error"]) == (400, "not_a_folder")
    assert "PUT the file itself to /campaigns/a.jpg (curl -T a.jpg URL" in post.json()["message"]
    assert (folder.status_code, folder.json()["error"]) == (415, "not_multipart")
    assert "what curl --data-binary sends" in folder.json()["message"]
    assert "curl -F 'file=@photo.jpg'" in folder.json()["message"]
    assert api.stored() == set()


def test_other_refusals_name_the_fix(api):
    with api.client() as http:
        fields = http.post("/campaigns/", files={"note": (None, "x")}, headers=AUTH)
        missing = http.delete("/campaigns/nope.jpg", headers=AUTH)
    assert fields.json()["error"] == "no_files" and "curl -F 'file=@" in fields.json()["message"]
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert "GET /campaigns/?list" in missing.json()["message"]


def _reply(sock: socket.socket, first: bytes) -> tuple[bytes, dict]:
    """The whole of a JSON answer whose first bytes are ``first``."""
    sock.settimeout(10)
    reply = first
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(65536)
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    return head, json.loads(body[:length])


def test_force_stores_with_warnings_but_never_active_content(api):
    with api.client() as http:
        forced = http.put("/stickers/small.webp?force=true", content=webp((100, 100)), headers=AUTH)
        assert forced.status_code == 201
        assert [w["code"] for w in forced.json()["warnings"]] == ["sticker_dimensions"]
        html = b"<!DOCTYPE html><html></html>"
        assert http.put("/x.jpg?force=true", content=html, headers=AUTH).status_code == 415
        assert http.put("/x.html?force=true", content=html, headers=AUTH).status_code == 415
    assert api.stored() == {"stickers/small.webp"}


def test_multipart_post_of_several_files(api):
    files = [
        ("file", ("one.jpg", jpeg(), "image/jpeg")),
        ("file", ("two.pdf", pdf("two"), "application/pdf")),
        ("note", (None, "a plain field is ignored")),
    ]
    with api.client() as http:
        response = http.post("/campaigns/", files=files, headers=AUTH)
        assert response.status_code == 201
        assert [r["path"] for r in response.json()] == ["/campaigns/one.jpg", "/campaigns/two.pdf"]
        assert http.get("/campaigns/two.pdf").content == pdf("two")


def test_multipart_post_is_all_or_nothing(api):
    files = [
        ("a", ("good.jpg", jpeg(), "image/jpeg")),
        ("b", ("bad.jpg", webp((8, 8)), "image/jpeg")),
    ]
    with api.client() as http:
        response = http.post("/campaigns/", files=files, headers=AUTH)
        assert response.status_code == 415
        assert response.json()["path"] == "/campaigns/bad.jpg"
        assert http.post("/campaigns/x.jpg", files=files[:1], headers=AUTH).status_code == 400
    assert api.stored() == set()


def test_fifty_concurrent_uploads_to_one_path_while_gets_run(api):
    versions = {pdf(f"version {n} " + "x" * (n * 997)) for n in range(50)}
    seen: list[tuple[bytes, str]] = []
    stop = threading.Event()

    def reader():
        with api.client() as http:
            while not stop.is_set():
                response = http.get("/docs/menu.pdf")
                if response.status_code == 200:
                    seen.append((response.content, response.headers["content-length"]))

    answers: list[tuple[int, str]] = []

    def writer(body):
        with httpx.Client(base_url=api.url, timeout=60) as http:
            reply = http.put("/docs/menu.pdf", content=body, headers=AUTH)
            answers.append((reply.status_code, reply.text))

    readers = [threading.Thread(target=reader) for _ in range(3)]
    writers = [threading.Thread(target=writer, args=(body,)) for body in versions]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    stop.set()
    for thread in readers:
        thread.join(timeout=30)
    # Asserted here, not in the threads, where a failed assert is only a warning.
    assert len(answers) == len(versions)
    statuses = [status for status, _ in answers]
    if api.bucket is None:
        assert set(statuses) <= {200, 201}, answers
    else:
        # moto's server, fifty uploads at once on two cores, has answered one of them
        # with a 5xx: a 503 to retry, JSON, nothing half-written, is the contract then
        assert set(statuses) <= {200, 201, 503}, answers
        assert all('"storage_unavailable"' in text for status, text in answers if status == 503)
        assert statuses.count(503) < len(statuses) // 2, answers
    assert seen, "the readers saw no version at all"
    for content, length in seen:
        assert content in versions  # one whole version, byte for byte
        assert int(length) == len(content)
    assert api.stored() == {"docs/menu.pdf"}


def _cut_off(api, request_line: str, headers: str, body: bytes) -> None:
    """Announce 20 MB, send ``body`` (about a tenth), hang up; then give the server
    a moment to notice."""
    with socket.create_connection(("127.0.0.1", api.port)) as sock:
        sock.sendall(
            f"{request_line} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"{headers}Content-Length: 20000000\r\n\r\n".encode()
        )
        sock.sendall(body)
        time.sleep(0.3)
    time.sleep(0.5)  # a file (or a traceback) would be written as the request ends


def test_a_client_that_disconnects_mid_upload_leaves_nothing(api):
    _cut_off(api, "PUT /docs/big.pdf", "", b"%PDF-1.4\n" + bytes(2_000_000))
    assert api.stored() == set()
    with api.client() as http:
        assert http.get("/docs/big.pdf").status_code == 404


def test_a_client_that_disconnects_mid_post_leaves_nothing_and_no_traceback(api):
    """A form cut off with its connection in the middle of a file part is handled as
    PUT handles it: nothing stored, the staging cleaned up, no traceback in the log,
    and the server still answers."""
    boundary = "cut-off-form"
    part = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    ).encode()
    form = f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
    _cut_off(api, "POST /docs/", form, part + bytes(2_000_000))
    assert api.stored() == set()
    with api.client() as http:
        assert http.get("/docs/big.pdf").status_code == 404
        assert http.get("/docs/?list", headers=AUTH).json() == []
    assert "Traceback" not in api.stderr()


def test_an_announced_over_limit_body_is_refused_before_it_is_sent(api):
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as sock:
        sock.sendall(
            f"PUT /big.jpg HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Length: 6000000\r\n\r\n".encode()
        )
        sock.sendall(b"\xff\xd8\xff" + bytes(1000))  # a thousand bytes of six million
        reply, error = _reply(sock, sock.recv(65536))
    assert reply.startswith(b"HTTP/1.1 413")
    assert error["error"] == "too_large"
    assert error["message"].startswith(
        "image is 6 MB (6,000,000 bytes, its Content-Length); the limit here is 5 MB: "
        "make it smaller, e.g. convert big.jpg"
    )
    assert api.stored() == set()


def test_a_chunked_body_is_cut_at_the_limit(api):
    with socket.create_connection(("127.0.0.1", api.port), timeout=20) as sock:
        sock.sendall(
            f"PUT /big.jpg HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = bytes(256 * 1024)
        sent = 0
        reply = b""
        sock.settimeout(0.05)
        while sent < 20_000_000 and not reply:
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                reply = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(10)
        if not reply:
            reply = sock.recv(65536)
        reply, error = _reply(sock, reply)
    assert reply.startswith(b"HTTP/1.1 413")
    assert sent < 8_000_000  # refused near the 5 MB limit, not after the whole body
    # no Content-Length: the size is what came before the cut, "at least"
    message = error["message"]
    assert re.match(r"image is at least 5(\.\d)? MB \(5,\d{3},\d{3} bytes received", message)
    assert "the limit here is 5 MB: make it smaller, e.g. convert big.jpg" in message
    assert api.stored() == set()


@pytest.mark.parametrize("api", [("granian", "s3")], ids=["granian-s3"], indirect=True)
def test_an_upload_is_stored_in_s3_with_the_type_it_is_served_as(api):
    """The API names the type (the S3 backend no longer works it out): an object
    read from the bucket by something other than this server has the right one."""
    with api.client() as http:
        assert http.put("/campaigns/promo.jpg", content=jpeg(), headers=AUTH).status_code == 201
        files = [("file", ("menu.pdf", pdf("menu"), "application/pdf"))]
        assert http.post("/docs/", files=files, headers=AUTH).status_code == 201
    head = api.bucket.s3.head_object
    assert head(Bucket=api.bucket.name, Key="campaigns/promo.jpg")["ContentType"] == "image/jpeg"
    assert head(Bucket=api.bucket.name, Key="docs/menu.pdf")["ContentType"] == "application/pdf"


def test_delete(api):
    with api.client() as http:
        http.put("/docs/a.pdf", content=pdf("a"), headers=AUTH)
        assert http.delete("/docs/a.pdf", headers=AUTH).status_code == 204
        assert http.get("/docs/a.pdf").status_code == 404
        assert http.delete("/docs/a.pdf", headers=AUTH).status_code == 404


def test_list(api):
    with api.client() as http:
        http.put("/campaigns/a.jpg", content=jpeg(), headers=AUTH)
        http.put("/campaigns/b.pdf", content=pdf("b"), headers=AUTH)
        http.put("/campaigns/sub/c.pdf", content=pdf("c"), headers=AUTH)
        listing = http.get("/campaigns/?list", headers=AUTH)
        assert listing.status_code == 200
        files = listing.json()
        assert [f["path"] for f in files] == ["/campaigns/a.jpg", "/campaigns/b.pdf"]
        assert set(files[0]) == {
            "path",
            "size",
            "content_type",
            "whatsapp_type",
            "etag",
            "last_modified",
        }
        assert files[0]["etag"] == http.head("/campaigns/a.jpg").headers["etag"]
        assert http.get("/campaigns/?list").status_code == 404
        assert http.get("/campaigns/").status_code == 404
        assert (
            http.get("/campaigns/?list", headers={"Authorization": "Bearer no"}).status_code == 401
        )


def test_a_listing_without_its_trailing_slash_names_the_fix(api):
    with api.client() as http:
        http.put("/campaigns/a.jpg", content=jpeg(), headers=AUTH)
        hinted = http.get("/campaigns?list", headers=AUTH)
        anonymous = http.get("/campaigns?list")
    assert hinted.status_code == 404 and hinted.headers["content-type"] == "application/json"
    assert hinted.json()["error"] == "not_found"
    assert "add a trailing slash: /campaigns/?list" in hinted.json()["message"]
    assert anonymous.status_code == 404 and b"trailing slash" not in anonymous.content


def test_the_missing_slash_answer(tmp_path):
    """``Api.missing_slash`` itself, as ``MediaOrigin.read`` calls it."""
    import asyncio

    from origin.config import load_config
    from origin.serve.representations import Representations
    from origin.upload.api import Api
    from storage.filesystem import FilesystemStorage

    (tmp_path / "media").mkdir()
    config_file = tmp_path / "config.toml"
    config_file.write_text('[storage]\nroot = "media"\n[api]\ntoken_env = "TEST_MEDIA_TOKEN"\n')
    os.environ["TEST_MEDIA_TOKEN"] = TOKEN
    try:
        config = load_config(config_file)
    finally:
        del os.environ["TEST_MEDIA_TOKEN"]
    storage = FilesystemStorage(tmp_path)
    api = Api(config, storage, Representations(storage, config.policies))

    def ask(path: str, query: bytes, headers: list) -> tuple[bool, list]:
        sent: list = []

        async def send(message):
            sent.append(message)

        scope = {"path": path, "query_string": query, "headers": headers}
        return asyncio.run(api.missing_slash(scope, send)), sent

    auth = [(b"authorization", f"Bearer {TOKEN}".encode())]
    answered, sent = ask("/campaigns", b"list", auth)
    assert answered and sent[0]["status"] == 404
    body = json.loads(sent[1]["body"])
    assert body["message"].endswith("add a trailing slash: /campaigns/?list")
    assert ask("/campaigns", b"list", []) == (False, [])  # no token: the plain 404
    assert ask("/campaigns/", b"list", auth) == (False, [])  # a real listing
    assert ask("/campaigns", b"v=1", auth) == (False, [])  # no list asked for
    head = {"path": "/campaigns", "query_string": b"list", "headers": auth, "method": "HEAD"}
    assert asyncio.run(api.missing_slash(head, None)) is False  # no body to a HEAD


def test_versioned_links(api):
    with api.client() as http:
        body = http.put("/campaigns/v.jpg", content=jpeg(), headers=AUTH).json()
        query = body["versioned_url"].split("?", 1)[1]
        current = http.get(f"/campaigns/v.jpg?{query}")
        assert current.headers["cache-control"] == "max-age=31536000, immutable"
        assert current.content == jpeg()
        assert http.get("/campaigns/v.jpg").headers["cache-control"] == "max-age=86400"
        http.put("/campaigns/v.jpg", content=jpeg((7, 7, 7)), headers=AUTH)
        stale = http.get(f"/campaigns/v.jpg?{query}")
        assert stale.status_code == 200
        assert stale.headers["cache-control"] == "max-age=86400"


def test_signed_links(api):
    with api.client() as http:
        body = http.put("/invoices/INV 7.pdf", content=pdf("inv"), headers=AUTH).json()
        signed = body["signed_url"]
        assert signed.startswith("https://media.example.com/invoices/INV%207.pdf?expires=")
        query = signed.split("?", 1)[1]
        assert http.get("/invoices/INV 7.pdf").status_code == 403
        ok = http.get(f"/invoices/INV 7.pdf?{query}")
        assert ok.status_code == 200 and ok.content == pdf("inv")
        assert http.head(f"/invoices/INV 7.pdf?{query}").status_code == 200
        expired = signed_query(KEY.encode(), "/invoices/INV 7.pdf", int(time.time()) - 5)
        assert http.get(f"/invoices/INV 7.pdf?{expired}").status_code == 403
        assert http.get(f"/invoices/INV 8.pdf?{query}").status_code == 403  # tampered path
        expires = int(query.split("&")[0].split("=")[1])
        tampered = query.replace(f"expires={expires}", f"expires={expires + 3600}")
        forbidden = http.get(f"/invoices/INV 7.pdf?{tampered}")
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"].startswith("text/plain")


def test_crash_leftovers_are_removed_at_start_up(tmp_path):
    root = tmp_path / "media"
    leftover = root / ".media-origin" / "uploads" / "12345-dead"
    leftover.mkdir(parents=True)
    (leftover / "half.part").write_bytes(b"half an upload")
    (leftover.parent / "12345-dead.lock").write_text("")
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nroot = "media"\n')
    with start_server(config, root) as server, server.client() as http:
        assert http.get("/").status_code == 404
    assert not leftover.exists()
    assert os.listdir(leftover.parent) == []


def test_a_path_where_a_folder_stands_or_under_a_file_is_a_conflict(api):
    if api.bucket is not None:
        pytest.skip("an object store has no folders: 'docs' and 'docs/a.pdf' are both keys")
    with api.client() as http:
        assert http.put("/docs/a.pdf", content=pdf("a"), headers=AUTH).status_code == 201
        folder = http.put("/docs?force=true", content=pdf("x"), headers=AUTH)
        assert (folder.status_code, folder.json()["error"]) == (409, "conflict")
        under = http.put("/docs/a.pdf/b.pdf", content=pdf("x"), headers=AUTH)
        assert (under.status_code, under.json()["error"]) == (409, "conflict")
    assert api.stored() == {"docs/a.pdf"}
