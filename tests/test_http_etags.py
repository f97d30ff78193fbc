import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.http.etags import (
    ANY,
    MAX_ETAG_LIST_CHARS,
    MEMOISED_ETAG_LIST_CHARS,
    ETag,
    _memoised_parse_etag_list,
    parse_etag_list,
    strong_match,
    weak_match,
)
from tests.helpers.hostile_text import text_of_any_length


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"abc"', [ETag("abc", False)]),
        ('W/"abc"', [ETag("abc", True)]),
        ('"a", W/"b" ,"c"', [ETag("a", False), ETag("b", True), ETag("c", False)]),
        ('"a,b"', [ETag("a,b", False)]),  # commas may stand inside a tag
        ('""', [ETag("", False)]),
        ("*", ANY),
        (" * ", ANY),
        ("abc", [ETag("abc", False)]),  # unquoted, as some clients send
        ('"abc', None),
        ('W/abc"', None),
        ("", None),
        ('"a" "b"', None),
    ],
)
def test_parse_etag_list(value, expected):
    parsed = parse_etag_list(value)
    assert (list(parsed) if isinstance(parsed, tuple) else parsed) == expected


def test_strong_comparison_needs_two_strong_tags():
    assert strong_match([ETag("x", False)], ETag("x", False))
    assert not strong_match([ETag("x", True)], ETag("x", False))
    assert not strong_match([ETag("x", False)], ETag("x", True))
    assert not strong_match([ETag("x", False)], None)
    assert not strong_match([ETag("y", False)], ETag("x", False))


def test_weak_comparison_ignores_weakness():
    assert weak_match([ETag("x", True)], ETag("x", False))
    assert weak_match([ETag("x", False)], ETag("x", True))
    assert not weak_match([ETag("y", False)], ETag("x", False))
    assert not weak_match([ETag("x", False)], None)


opaque = st.text(alphabet=st.characters(min_codepoint=0x23, max_codepoint=0x7E), max_size=20)


@given(tags=st.lists(st.tuples(opaque, st.booleans()), min_size=1, max_size=5))
def test_header_round_trip(tags):
    etags = [ETag(text, weak) for text, weak in tags]
    assert list(parse_etag_list(", ".join(tag.to_header() for tag in etags))) == etags


long_text = text_of_any_length()


def memo_calls() -> int:
    info = _memoised_parse_etag_list.cache_info()
    return info.hits + info.misses


@given(
    value=st.one_of(
        long_text, st.builds(lambda tag, n: ", ".join([tag] * n), opaque, st.integers(1, 500))
    )
)
def test_any_value_parses_or_is_malformed_and_only_short_ones_are_memoised(value):
    calls = memo_calls()
    parsed = parse_etag_list(value)
    assert parsed is None or parsed == ANY or all(isinstance(tag, ETag) for tag in parsed)
    assert memo_calls() == calls + (len(value) <= MEMOISED_ETAG_LIST_CHARS)
    if len(value) > MAX_ETAG_LIST_CHARS:
        assert parsed is None


def test_an_over_long_list_is_malformed_though_each_tag_is_well_formed():
    tag = '"' + "a" * 32 + '"'
    fits = ", ".join([tag] * (MAX_ETAG_LIST_CHARS // (len(tag) + 2)))
    assert len(parse_etag_list(fits)) == MAX_ETAG_LIST_CHARS // (len(tag) + 2)
    assert parse_etag_list(fits + ", " + tag) is None
    assert ETag.parse('"' + "a" * MAX_ETAG_LIST_CHARS + '"') is None


def test_distinct_long_values_leave_the_memo_as_it_was():
    before = _memoised_parse_etag_list.cache_info()
    for number in range(100):
        assert parse_etag_list(f'"{number}{"x" * 2_000_000}"') is None  # 2 MB: refused
        assert parse_etag_list(f'"{number}{"x" * 1_000}"') == (
            ETag(f"{number}{'x' * 1_000}", False),
        )
    after = _memoised_parse_etag_list.cache_info()
    assert (after.hits, after.misses, after.currsize) == (
        before.hits,
        before.misses,
        before.currsize,
    )
