import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.serve.paths import (
    MAX_PATH_BYTES,
    MAX_SEGMENT_BYTES,
    MEMOISED_PATH_CHARS,
    _memoised_storage_path,
    _storage_path,
    storage_path,
)


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("/a.jpg", "a.jpg"),
        ("/campaigns/2026/promo.jpg", "campaigns/2026/promo.jpg"),
        ("/with space é.pdf", "with space é.pdf"),
        ("/%2e%2e/x", "%2e%2e/x"),  # doubly encoded: a literal name, traverses nothing
        ("/", None),
        ("", None),
        ("a.jpg", None),
        ("/campaigns/", None),  # a folder
        ("/../etc/passwd", None),
        ("/a/../../etc/passwd", None),
        ("/./a.jpg", None),
        ("/a//b.jpg", None),
        ("//etc/passwd", None),
        ("/.env", None),
        ("/.git/config", None),
        ("/a/.hidden/b.jpg", None),
        ("/a\\..\\..\\b", None),
        ("/a\x00.jpg", None),
        ("/a\n.jpg", None),
        ("/" + "x" * 256, None),
        ("/" + "x" * 255, "x" * 255),
        ("/" + "a/" * 2100 + "b", None),
        ("/" + "a/" * 2047 + "b", "a/" * 2047 + "b"),  # 4,096 bytes: the longest taken
        ("/" + "a/" * 2047 + "bc", None),
        ("/" + "é/" * 1400 + "b", None),  # 2,802 characters, but 4,202 bytes
        ("/\ud800.jpg", None),  # a lone surrogate is no character of a name
    ],
)
def test_storage_path(url_path, expected):
    assert storage_path(url_path) == expected


def memo_calls() -> int:
    info = _memoised_storage_path.cache_info()
    return info.hits + info.misses


# Arbitrary text, non-ASCII and control characters included, of any length up to
# about 300,000 characters (a head and a repeated unit: hypothesis draws short
# strings), mostly starting with "/" as URL paths do.
short_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=60),
    st.text(alphabet="ab./\\é", max_size=60),
)
long_text = st.builds(
    lambda slash, head, unit, times: slash + head + unit * times,
    st.sampled_from(["/", "/", ""]),
    short_text,
    short_text,
    st.integers(0, 5_000),
)


@given(url_path=long_text)
def test_any_path_is_refused_or_is_a_safe_relative_path(url_path):
    calls = memo_calls()
    relative = storage_path(url_path)
    bound = MEMOISED_PATH_CHARS if url_path.isascii() else MEMOISED_PATH_CHARS // 4
    memoised = len(url_path) <= bound
    assert memo_calls() == calls + memoised
    assert relative == _storage_path(url_path)  # the memo never changes an answer
    if relative is not None:
        assert url_path == "/" + relative
        assert len(url_path.encode()) <= MAX_PATH_BYTES
        assert relative.isprintable() and "\\" not in relative
        for segment in relative.split("/"):
            assert segment and not segment.startswith(".")
            assert len(segment.encode()) <= MAX_SEGMENT_BYTES


def test_distinct_long_paths_leave_the_memo_as_it_was():
    """What a client sending 404s for invented 60 KB paths used to fill memory with."""
    before = _memoised_storage_path.cache_info()
    for number in range(1_000):
        assert storage_path(f"/{number}{'x' * 60_000}") is None  # refused at once
        assert storage_path(f"/{number}/{'y' * 250}/{'z' * 250}.jpg") is not None  # not kept
    after = _memoised_storage_path.cache_info()
    assert (after.hits, after.misses, after.currsize) == (
        before.hits,
        before.misses,
        before.currsize,
    )
