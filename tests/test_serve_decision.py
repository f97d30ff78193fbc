"""``decide``: what a GET or HEAD gets from a representation and the request's
headers alone (RFC 9110 13.2.2: preconditions, then Range, then the body)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.policy import Policy
from origin.serve.decision import Body, decide, interesting_headers
from origin.serve.representation import build_representation
from origin.serve.responses import PRECONDITION_FAILED, Response
from storage.base import FileStat

SIZE = 1000
MTIME = 1_700_000_000.0
STAT = FileStat(size=SIZE, mtime=MTIME, version=("v", 1))
HASH = "a" * 64
LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"
CURRENT = build_representation("/a.jpg", STAT, Policy(), HASH, now=MTIME + 10)
ETAG = CURRENT.etag.to_header()


def headers_of(response) -> dict[bytes, bytes]:
    return dict(response.headers)


@pytest.mark.parametrize(
    ("method", "request_headers", "status", "start", "stop"),
    [
        ("GET", {}, 200, 0, SIZE),
        ("GET", {b"range": "bytes=0-99"}, 206, 0, 100),
        ("GET", {b"range": "bytes=-10"}, 206, SIZE - 10, SIZE),
        ("GET", {b"range": "bytes=990-5000"}, 206, 990, SIZE),
        # If-Range with the current validator: the range; with another, the whole file
        ("GET", {b"range": "bytes=0-9", b"if-range": ETAG}, 206, 0, 10),
        ("GET", {b"range": "bytes=0-9", b"if-range": '"other"'}, 200, 0, SIZE),
        # a Range of another unit is ignored (RFC 9110 14.2)
        ("GET", {b"range": "items=0-1"}, 200, 0, SIZE),
        ("GET", {b"if-none-match": '"other"'}, 200, 0, SIZE),
        ("GET", {b"if-match": ETAG}, 200, 0, SIZE),
    ],
)
def test_a_body_is_decided_with_its_bytes(method, request_headers, status, start, stop):
    decision = decide(CURRENT, method, request_headers)
    assert isinstance(decision, Body)
    assert (decision.status, decision.start, decision.stop) == (status, start, stop)
    headers = headers_of(decision)
    assert headers[b"content-length"] == str(stop - start).encode()
    if status == 206:
        assert headers[b"content-range"] == f"bytes {start}-{stop - 1}/{SIZE}".encode()
    else:
        assert b"content-range" not in headers


@pytest.mark.parametrize(
    ("method", "request_headers", "status"),
    [
        ("GET", {b"if-none-match": ETAG}, 304),
        ("HEAD", {b"if-none-match": ETAG}, 304),
        ("GET", {b"if-none-match": "*"}, 304),
        ("GET", {b"if-modified-since": LAST_MODIFIED}, 304),
        ("GET", {b"if-match": '"other"'}, 412),
        ("GET", {b"if-unmodified-since": "Mon, 13 Nov 2023 00:00:00 GMT"}, 412),
        ("GET", {b"range": "bytes=5000-"}, 416),
        ("HEAD", {}, 200),
        ("HEAD", {b"range": "bytes=0-9"}, 200),  # HEAD ignores Range
        ("HEAD", {b"range": "bytes=5000-"}, 200),
    ],
)
def test_a_complete_answer_is_decided(method, request_headers, status):
    decision = decide(CURRENT, method, request_headers)
    assert isinstance(decision, Response)
    assert decision.status == status
    headers = headers_of(decision)
    if status == 304:
        assert headers[b"etag"] == ETAG.encode() and b"content-length" not in headers
    if status == 416:
        assert headers[b"content-range"] == f"bytes */{SIZE}".encode()
    if method == "HEAD" and status == 200:
        assert decision.headers is CURRENT.ok_headers  # the sender copies it


def test_a_failed_precondition_is_exactly_the_canned_412():
    decision = decide(CURRENT, "GET", {b"if-match": '"other"'})
    assert decision is PRECONDITION_FAILED
    assert decision.status == 412
    assert decision.body == b"Precondition Failed\n"
    assert headers_of(decision) == {
        b"content-type": b"text/plain; charset=utf-8",
        b"content-length": b"20",
        b"cache-control": b"no-store",
        b"x-content-type-options": b"nosniff",
    }


def test_a_whole_body_and_a_304_are_the_representations_own_lists():
    """Made once per version, never per request (the sender copies them)."""
    whole = decide(CURRENT, "GET", {})
    assert isinstance(whole, Body)
    assert whole.headers is CURRENT.ok_headers
    assert decide(CURRENT, "GET", {b"if-none-match": ETAG}) is CURRENT.not_modified
    assert decide(CURRENT, "HEAD", {b"if-none-match": ETAG}) is CURRENT.not_modified
    assert CURRENT.not_modified.status == 304 and CURRENT.not_modified.body == b""


def test_preconditions_come_before_range():
    decision = decide(CURRENT, "GET", {b"if-none-match": ETAG, b"range": "bytes=5000-"})
    assert isinstance(decision, Response) and decision.status == 304


def test_repeated_header_lines_are_joined_as_a_list():
    raw = [(b"if-none-match", b'"x"'), (b"accept", b"*/*"), (b"if-none-match", ETAG.encode())]
    joined = interesting_headers(raw)
    assert joined == {b"if-none-match": f'"x", {ETAG}'}
    assert decide(CURRENT, "GET", joined).status == 304


@given(
    st.dictionaries(
        st.sampled_from(
            sorted(
                {
                    b"range",
                    b"if-range",
                    b"if-match",
                    b"if-none-match",
                    b"if-modified-since",
                    b"if-unmodified-since",
                }
            )
        ),
        st.text(max_size=40),
    ),
    st.sampled_from(["GET", "HEAD"]),
)
def test_any_headers_decide_a_known_status_never_an_exception(request_headers, method):
    decision = decide(CURRENT, method, request_headers)
    assert decision.status in {200, 206, 304, 412, 416}
    if isinstance(decision, Body):
        assert 0 <= decision.start < decision.stop <= SIZE
