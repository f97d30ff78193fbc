import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.etags import ANY, ETag, parse_etag_list, strong_match, weak_match


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
