"""Conditional requests over the wire (issue 2, point 5)."""

import pytest

PRESERVED = ("cache-control", "cdn-cache-control", "etag", "last-modified")


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


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
)
def test_if_none_match_uses_weak_comparison(client, promo, if_none_match):
    value = if_none_match.format(etag=promo["etag"])
    response = client.get("/campaigns/promo.jpg", headers={"if-none-match": value})
    assert response.status_code == 304


def test_if_none_match_on_a_weak_etag(client):
    etag = client.head("/weak/note.txt").headers["etag"]
    assert client.get("/weak/note.txt", headers={"if-none-match": etag}).status_code == 304
    strong = etag.removeprefix("W/")
    assert client.get("/weak/note.txt", headers={"if-none-match": strong}).status_code == 304


def test_if_none_match_mismatch_sends_the_file(client, promo):
    response = client.get("/campaigns/promo.jpg", headers={"if-none-match": '"nope"'})
    assert response.status_code == 200


def test_if_modified_since(client, promo):
    same = client.get("/campaigns/promo.jpg", headers={"if-modified-since": promo["last-modified"]})
    assert same.status_code == 304
    old = client.get(
        "/campaigns/promo.jpg", headers={"if-modified-since": "Thu, 01 Jan 1970 00:00:00 GMT"}
    )
    assert old.status_code == 200


def test_if_modified_since_is_ignored_when_if_none_match_is_present(client, promo):
    response = client.get(
        "/campaigns/promo.jpg",
        headers={"if-none-match": '"nope"', "if-modified-since": promo["last-modified"]},
    )
    assert response.status_code == 200


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
    assert (
        client.get("/campaigns/promo.jpg", headers={"if-match": promo["etag"]}).status_code == 200
    )
    assert client.get("/campaigns/promo.jpg", headers={"if-match": "*"}).status_code == 200
    failed = client.get("/campaigns/promo.jpg", headers={"if-match": '"other"'})
    assert failed.status_code == 412
    assert failed.headers["content-type"].startswith("text/plain")


def test_if_match_fails_where_the_folder_sends_no_etag(client):
    assert client.get("/invoices/INV 0001 é.pdf", headers={"if-match": '"x"'}).status_code == 412


def test_if_unmodified_since(client, promo):
    ok = client.get("/campaigns/promo.jpg", headers={"if-unmodified-since": promo["last-modified"]})
    assert ok.status_code == 200
    failed = client.get(
        "/campaigns/promo.jpg", headers={"if-unmodified-since": "Thu, 01 Jan 1970 00:00:00 GMT"}
    )
    assert failed.status_code == 412


def test_if_unmodified_since_only_without_if_match(client, promo):
    response = client.get(
        "/campaigns/promo.jpg",
        headers={"if-match": promo["etag"], "if-unmodified-since": "Thu, 01 Jan 1970 00:00:00 GMT"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header", ["if-modified-since", "if-unmodified-since", "if-none-match", "if-range"]
)
@pytest.mark.parametrize(
    "value",
    ["yesterday", "Mon, 99 Foo 2024 99:99:99 GMT", "", "\xe9t\xe9", '"', "W/", "Sun, 31 Feb"],
)
def test_malformed_values_are_ignored_never_a_500(client, header, value):
    headers = {header: value.encode("latin-1"), "range": "bytes=0-1"}
    response = client.get("/campaigns/promo.jpg", headers=headers)
    assert response.status_code in (200, 206)


def test_repeated_if_none_match_lines_are_one_list(standard_server, promo):
    reply = standard_server.raw(
        b"GET /campaigns/promo.jpg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b'If-None-Match: "a"\r\nIf-None-Match: ' + promo["etag"].encode() + b"\r\n\r\n"
    )
    assert reply.startswith(b"HTTP/1.1 304 ")
