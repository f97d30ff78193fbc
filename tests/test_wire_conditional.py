"""Conditional requests over the wire (issue 2, point 5).

Every answer is checked exactly (a 304 or 412 has no file body, a 200 is the whole
file), and each test whose answer is the 200 a server ignoring the header would
also send has a contrast next to it that only a server reading the header passes.
"""

import pytest

from tests.helpers.servers import STANDARD_FILES
from tests.test_wire_ranges import assert_part, assert_whole

PRESERVED = ("cache-control", "cdn-cache-control", "etag", "last-modified")
PROMO = STANDARD_FILES["campaigns/promo.jpg"]
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


@pytest.fixture(scope="module")
def promo(client):
    return client.get("/campaigns/promo.jpg").headers


def test_if_none_match_gives_a_304_with_the_200s_cache_headers(client, promo):
    response = client.get("/campaigns/promo.jpg", headers={"if-none-match": promo["etag"]})
    assert response.status_code == 304
    assert response.content == b""
    for name in PRESERVED:
        assert response.headers[name] == promo[name], name
    assert "content-type" not in response.headers


def test_head_gets_a_304_too(client, promo):
    response = client.head("/campaigns/promo.jpg", headers={"if-none-match": promo["etag"]})
    assert response.status_code == 304
    assert response.content == b""
    for name in PRESERVED:
        assert response.headers[name] == promo[name], name


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
)
def test_if_none_match_uses_weak_comparison(client, promo, if_none_match):
    value = if_none_match.format(etag=promo["etag"])
    response = client.get("/campaigns/promo.jpg", headers={"if-none-match": value})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == promo["etag"]


def test_if_none_match_on_a_weak_etag(client):
    etag = client.head("/weak/note.txt").headers["etag"]
    assert client.get("/weak/note.txt", headers={"if-none-match": etag}).status_code == 304
    strong = etag.removeprefix("W/")
    assert client.get("/weak/note.txt", headers={"if-none-match": strong}).status_code == 304


def test_if_none_match_mismatch_sends_the_file(client, promo):
    response = client.get("/campaigns/promo.jpg", headers={"if-none-match": '"nope"'})
    assert_whole(response, PROMO)
    assert response.headers["etag"] == promo["etag"]
    # contrast: the same header naming the file's tag too is a 304
    both = client.get("/campaigns/promo.jpg", headers={"if-none-match": f'"nope", {promo["etag"]}'})
    assert both.status_code == 304


def test_if_modified_since(client, promo):
    same = client.get("/campaigns/promo.jpg", headers={"if-modified-since": promo["last-modified"]})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["last-modified"] == promo["last-modified"]
    old = client.get("/campaigns/promo.jpg", headers={"if-modified-since": EPOCH})
    assert_whole(old, PROMO)


def test_if_modified_since_is_ignored_when_if_none_match_is_present(client, promo):
    response = client.get(
        "/campaigns/promo.jpg",
        headers={"if-none-match": '"nope"', "if-modified-since": promo["last-modified"]},
    )
    assert_whole(response, PROMO)
    # contrast: that If-Modified-Since alone is a 304
    alone = client.get(
        "/campaigns/promo.jpg", headers={"if-modified-since": promo["last-modified"]}
    )
    assert alone.status_code == 304


def test_no_cache_folder_revalidates_by_last_modified(client):
    first = client.get("/catalog/price-list.pdf")
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(
        "/catalog/price-list.pdf", headers={"if-modified-since": first.headers["last-modified"]}
    )
    assert again.status_code == 304
    assert again.headers["last-modified"] == first.headers["last-modified"]
    assert again.headers["cache-control"] == "no-cache"


def test_if_match(client, promo):
    assert_whole(client.get("/campaigns/promo.jpg", headers={"if-match": promo["etag"]}), PROMO)
    assert_whole(client.get("/campaigns/promo.jpg", headers={"if-match": "*"}), PROMO)
    failed = client.get("/campaigns/promo.jpg", headers={"if-match": '"other"'})
    assert failed.status_code == 412
    assert failed.headers["content-type"].startswith("text/plain")
    assert PROMO not in failed.content
    # If-Match compares strongly: the weak form of the file's own tag fails
    weak = client.get("/campaigns/promo.jpg", headers={"if-match": "W/" + promo["etag"]})
    assert weak.status_code == 412


def test_if_match_fails_where_the_folder_sends_no_etag(client):
    invoice = STANDARD_FILES["invoices/INV 0001 é.pdf"]
    assert client.get("/invoices/INV 0001 é.pdf", headers={"if-match": '"x"'}).status_code == 412
    # "*" asks only that the file exist
    assert_whole(client.get("/invoices/INV 0001 é.pdf", headers={"if-match": "*"}), invoice)


def test_if_unmodified_since(client, promo):
    ok = client.get("/campaigns/promo.jpg", headers={"if-unmodified-since": promo["last-modified"]})
    assert_whole(ok, PROMO)
    failed = client.get("/campaigns/promo.jpg", headers={"if-unmodified-since": EPOCH})
    assert failed.status_code == 412
    assert PROMO not in failed.content


def test_if_unmodified_since_only_without_if_match(client, promo):
    response = client.get(
        "/campaigns/promo.jpg",
        headers={"if-match": promo["etag"], "if-unmodified-since": EPOCH},
    )
    assert_whole(response, PROMO)
    # contrast: that If-Unmodified-Since alone is a 412
    alone = client.get("/campaigns/promo.jpg", headers={"if-unmodified-since": EPOCH})
    assert alone.status_code == 412


@pytest.mark.parametrize(
    "header", ["if-modified-since", "if-unmodified-since", "if-none-match", "if-range"]
)
@pytest.mark.parametrize(
    "value",
    ["yesterday", "Mon, 99 Foo 2024 99:99:99 GMT", "", "\xe9t\xe9", '"', "W/", "Sun, 31 Feb"],
)
def test_malformed_values_are_ignored_never_a_500(client, header, value):
    """A malformed precondition is as if absent, so the Range is served; a malformed
    If-Range is a validator that does not match, so the whole file is."""
    headers = {header: value.encode("latin-1"), "range": "bytes=0-1"}
    response = client.get("/campaigns/promo.jpg", headers=headers)
    if header == "if-range":
        assert_whole(response, PROMO)
    else:
        assert_part(response, PROMO, 0, 2)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"if-none-match": "{etag}"}, 304),
        ({"if-modified-since": "{date}"}, 304),
        ({"if-match": '"other"'}, 412),
        ({"if-unmodified-since": EPOCH}, 412),
    ],
)
def test_a_precondition_decides_before_the_range(client, promo, headers, status):
    """A 304 or 412 is sent as it is, never a 206 of a part (RFC 9110 section 13.2.2)."""
    values = {
        name: value.format(etag=promo["etag"], date=promo["last-modified"])
        for name, value in headers.items()
    }
    response = client.get("/campaigns/promo.jpg", headers={**values, "range": "bytes=0-1"})
    assert response.status_code == status
    assert "content-range" not in response.headers
    assert PROMO[:2] not in response.content


def test_repeated_if_none_match_lines_are_one_list(standard_server, promo):
    reply = standard_server.raw(
        b"GET /campaigns/promo.jpg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b'If-None-Match: "a"\r\nIf-None-Match: ' + promo["etag"].encode() + b"\r\n\r\n"
    )
    assert reply.startswith(b"HTTP/1.1 304 ")
