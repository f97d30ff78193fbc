"""ETags come from the bytes, not from where or when they were written, and
never outlive the version they describe (issue 2, points 7 and 11)."""

import os
import shutil

from tests.helpers.servers import start_server, write_config, write_files


def test_two_instances_and_two_copies_agree(tmp_path):
    """Same bytes, different files, different mtimes, different servers: same ETag."""
    trees = []
    for name, mtime in (("one", 1_600_000_000), ("two", 1_700_000_000)):
        directory = tmp_path / name
        write_files(directory / "media", {"promo.jpg": b"\xff\xd8same bytes"})
        os.utime(directory / "media" / "promo.jpg", (mtime, mtime))
        trees.append(directory)
    servers = [start_server(write_config(d, ""), d / "media") for d in trees]
    try:
        etags = []
        for server in servers:
            with server.client() as http:
                etags.append(http.head("/promo.jpg").headers["etag"])
        assert etags[0] == etags[1]
    finally:
        for server in servers:
            server.stop()


def test_replaced_file_gets_new_validators_at_once(serve):
    server = serve(files={"menu.pdf": b"version one"})
    path = server.root / "menu.pdf"
    with server.client() as http:
        first = http.get("/menu.pdf")
        # in-place rewrite, same size, same mtime: only ctime tells
        stat = os.stat(path)
        path.write_bytes(b"version two")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        second = http.get("/menu.pdf")
        assert second.content == b"version two"
        assert second.headers["etag"] != first.headers["etag"]
        old = http.get("/menu.pdf", headers={"if-none-match": first.headers["etag"]})
        assert old.status_code == 200 and old.content == b"version two"
        # atomic replace by rename, as deploy tools do
        staged = server.root / ".menu.pdf.tmp"
        staged.write_bytes(b"version three")
        os.replace(staged, path)
        third = http.get("/menu.pdf")
        assert third.content == b"version three"
        assert third.headers["etag"] not in (first.headers["etag"], second.headers["etag"])
        # back to the first bytes: back to the first ETag
        path.write_bytes(b"version one")
        assert http.get("/menu.pdf").headers["etag"] == first.headers["etag"]


def test_deleted_file_is_gone_at_once(serve):
    server = serve(files={"a.jpg": b"x"})
    with server.client() as http:
        assert http.get("/a.jpg").status_code == 200
        os.unlink(server.root / "a.jpg")
        assert http.get("/a.jpg").status_code == 404
        shutil.copy(__file__, server.root / "a.jpg")
        assert http.get("/a.jpg").status_code == 200


def test_a_file_changed_between_range_requests_fails_if_range(serve):
    server = serve(files={"v.mp4": b"A" * 1000})
    with server.client() as http:
        etag = http.head("/v.mp4").headers["etag"]
        (server.root / "v.mp4").write_bytes(b"B" * 1000)
        resumed = http.get("/v.mp4", headers={"range": "bytes=500-", "if-range": etag})
        assert resumed.status_code == 200
        assert resumed.content == b"B" * 1000
