"""Per-folder policies as the client sees them (issue 2, points 6 and 7)."""

import re

import pytest


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("/hello.txt", "max-age=86400"),
        ("/campaigns/promo.jpg", "max-age=604800, immutable"),
        ("/campaigns/2026/black-friday.mp4", "max-age=604800, immutable"),  # inherited folder
        ("/catalog/price-list.pdf", "no-cache"),
        ("/invoices/INV 0001 é.pdf", "private, no-store"),
    ],
)
def test_cache_control_by_folder(client, path, cache_control):
    assert client.get(path).headers["cache-control"] == cache_control


def test_cdn_cache_control_is_sent_and_inherited(client):
    assert client.head("/campaigns/promo.jpg").headers["cdn-cache-control"] == "max-age=3600"
    deep = client.head("/campaigns/2026/black-friday.mp4")
    assert deep.headers["cdn-cache-control"] == "max-age=3600"
    assert "cdn-cache-control" not in client.head("/hello.txt").headers


def test_invoices_send_no_etag_and_download_as_attachment(client):
    response = client.get("/invoices/INV 0001 é.pdf")
    assert "etag" not in response.headers
    assert "last-modified" in response.headers  # inherited from "/"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"INV 0001 _.pdf\"; filename*=UTF-8''INV%200001%20%C3%A9.pdf"
    )


def test_empty_cache_control_sends_none(client):
    headers = client.get("/bare/file.txt").headers
    assert "cache-control" not in headers
    assert "last-modified" not in headers
    assert "etag" not in headers


def test_strong_and_weak_etags(client):
    assert re.fullmatch(r'"[0-9a-f]{32}"', client.head("/hello.txt").headers["etag"])
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', client.head("/weak/note.txt").headers["etag"])


def test_last_modified_is_an_imf_fixdate_of_the_mtime(standard_server, client):
    import os
    from email.utils import formatdate

    if standard_server.bucket is not None:  # the store's upload time, for another tool's object
        head = standard_server.bucket.s3.head_object(
            Bucket=standard_server.bucket.name, Key="hello.txt"
        )
        mtime = head["LastModified"].timestamp()
    else:
        mtime = os.stat(standard_server.root / "hello.txt").st_mtime
    header = client.head("/hello.txt").headers["last-modified"]
    assert header == formatdate(int(mtime), usegmt=True)
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", header)
