"""Range header parsing (RFC 9110 section 14.1), as a table and as properties."""

import contextlib
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.http.ranges import MAX_RANGES, ByteRange, Unsatisfiable, parse_range
from tests.helpers.hostile_text import text_of_any_length


@pytest.mark.parametrize(
    ("header", "length", "expected"),
    [
        ("bytes=0-9", 100, ByteRange(0, 10)),
        ("bytes=0-0", 100, ByteRange(0, 1)),  # one byte (WhiteNoise #711 got this wrong)
        ("bytes=90-", 100, ByteRange(90, 100)),
        ("bytes=-1", 100, ByteRange(99, 100)),
        ("bytes=-10", 100, ByteRange(90, 100)),
        ("bytes=-500", 100, ByteRange(0, 100)),  # suffix longer than the file: all of it
        ("bytes=50-500", 100, ByteRange(50, 100)),  # last-pos clamped
        ("Bytes=0-1", 100, ByteRange(0, 2)),  # the unit is case-insensitive
        ("bytes= 0-1 ", 100, ByteRange(0, 2)),
        ("bytes=0-4,5-9", 100, ByteRange(0, 10)),  # adjacent ranges merge
        ("bytes=0-50,10-20", 100, ByteRange(0, 51)),  # overlapping ranges merge
        ("bytes=0-1,,", 100, ByteRange(0, 2)),  # empty list elements are allowed
        ("bytes=200-300,0-1", 100, ByteRange(0, 2)),  # unsatisfiable ones are dropped
        ("bytes=0-1,5-6", 100, None),  # disjoint ranges: the full 200
        ("bytes=100-", 100, Unsatisfiable(100)),
        ("bytes=100-200", 100, Unsatisfiable(100)),
        ("bytes=-0", 100, Unsatisfiable(100)),
        ("bytes=0-0", 0, Unsatisfiable(0)),
        ("bytes=-5", 0, None),  # satisfiable suffix on an empty file: send the empty 200
        ("bytes=9-1", 100, None),  # inverted: invalid, ignored
        ("bytes=a-b", 100, None),
        ("bytes=-", 100, None),
        ("bytes=1-2-3", 100, None),
        ("bytes=+1-2", 100, None),
        ("bytes=0x10-20", 100, None),
        ("bytes=", 100, None),
        ("bytes=,", 100, None),
        ("items=0-1", 100, None),  # other units are ignored
        ("bytes 0-1", 100, None),
        ("", 100, None),
        ("bytes=0-1;x", 100, None),
        ("bytes=\u0660-\u0661", 100, None),  # non-ASCII digits are not digits here
    ],
)
def test_parse_range(header, length, expected):
    assert parse_range(header, length) == expected


def test_too_many_ranges_are_ignored():
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(MAX_RANGES + 1))
    assert parse_range(header, 10_000) is None
    header = "bytes=" + ",".join("0-0" for _ in range(MAX_RANGES))
    assert parse_range(header, 10_000) == ByteRange(0, 1)


def test_content_range_values():
    assert ByteRange(0, 10).content_range(100) == "bytes 0-9/100"
    assert Unsatisfiable(100).content_range() == "bytes */100"


lengths = st.integers(min_value=0, max_value=10**12)
positions = st.integers(min_value=0, max_value=10**12)


@given(length=lengths, first=positions, last=positions)
def test_int_range_is_clamped_or_unsatisfiable(length, first, last):
    result = parse_range(f"bytes={first}-{last}", length)
    if last < first:
        assert result is None
    elif first >= length:
        assert result == Unsatisfiable(length)
    else:
        assert result == ByteRange(first, min(last + 1, length))
        assert 0 <= result.start < result.stop <= length


@given(length=lengths, suffix=positions)
def test_suffix_range(length, suffix):
    result = parse_range(f"bytes=-{suffix}", length)
    if suffix == 0:
        assert result == Unsatisfiable(length)
    elif length == 0:
        assert result is None
    else:
        assert result == ByteRange(max(length - suffix, 0), length)


@given(header=st.text(max_size=60), length=lengths)
def test_any_header_gives_a_sane_answer(header, length):
    result = parse_range(header, length)
    assert (
        result is None
        or isinstance(result, Unsatisfiable)
        or (0 <= result.start < result.stop <= length)
    )


@given(
    length=st.integers(min_value=1, max_value=10_000),
    specs=st.lists(
        st.tuples(st.integers(0, 12_000), st.integers(0, 12_000)), min_size=1, max_size=8
    ),
)
def test_merged_range_covers_exactly_the_requested_bytes(length, specs):
    specs = [(min(a, b), max(a, b)) for a, b in specs]
    header = "bytes=" + ",".join(f"{a}-{b}" for a, b in specs)
    wanted = set()
    for a, b in specs:
        wanted.update(range(a, min(b + 1, length)))
    result = parse_range(header, length)
    if not wanted:
        assert result == Unsatisfiable(length)
    elif isinstance(result, ByteRange):
        assert set(range(result.start, result.stop)) == wanted
    else:
        assert result is None  # disjoint: the whole representation
        assert wanted != set(range(min(wanted), max(wanted) + 1))


# Numbers of any length: int() refuses strings of over 4,300 digits, and the parser
# must never need to convert one.
HUGE = "9" * 5_000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"bytes={HUGE}-", Unsatisfiable(100)),  # first-pos past the end: 416
        (f"bytes={HUGE}-{HUGE}", Unsatisfiable(100)),
        (f"bytes={HUGE}-{HUGE}9", Unsatisfiable(100)),
        (f"bytes=0-{HUGE}", ByteRange(0, 100)),  # last-pos past the end: to the end
        (f"bytes=-{HUGE}", ByteRange(0, 100)),  # suffix longer than the file: all of it
        (f"bytes={HUGE}-,0-1", ByteRange(0, 2)),  # the satisfiable one is served
        (f"bytes={HUGE}9-{HUGE}", None),  # inverted, however long: invalid, ignored
        (f"bytes=5-{'0' * 5_000}4", None),  # leading zeros do not make a number large
        (f"bytes={'0' * 5_000}5-{'0' * 5_000}9", ByteRange(5, 10)),
        (f"bytes=-{'0' * 5_000}", Unsatisfiable(100)),
        (f"bytes={'9' * 18}-", Unsatisfiable(100)),  # the largest value converted
        (f"bytes=1{'0' * 18}-", Unsatisfiable(100)),  # the smallest one past the bound
        ("bytes=" + "," * 1_000_000, None),  # a million empty elements: too many
    ],
)
def test_over_long_numbers(header, expected):
    assert parse_range(header, 100) == expected


@contextlib.contextmanager
def any_int_digits() -> Iterator[None]:
    """The oracle converts numbers of any length; the parser must not need to."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(limit)


digit_text = st.text(alphabet="0123456789", min_size=1, max_size=12)
# Digit strings up to ~36,000 digits, leading zeros included.
long_digits = st.builds(
    lambda zeros, head, unit, times: "0" * zeros + head + unit * times,
    st.integers(0, 3),
    digit_text,
    digit_text,
    st.sampled_from([0, 1, 2, 400, 3_000]),
)


@given(length=lengths, first=long_digits, last=long_digits)
def test_numbers_of_any_length_are_read_as_their_value(length, first, last):
    result = parse_range(f"bytes={first}-{last}", length)
    with any_int_digits():
        first_value, last_value = int(first), int(last)
    if last_value < first_value:
        assert result is None
    elif first_value >= length:
        assert result == Unsatisfiable(length)
    else:
        assert result == ByteRange(first_value, min(last_value + 1, length))


@given(length=lengths, suffix=long_digits)
def test_suffixes_of_any_length(length, suffix):
    result = parse_range(f"bytes=-{suffix}", length)
    with any_int_digits():
        suffix_value = int(suffix)
    if suffix_value == 0:
        assert result == Unsatisfiable(length)
    elif length == 0:
        assert result is None
    else:
        assert result == ByteRange(max(length - suffix_value, 0), length)


rangeish = st.text(alphabet="0123456789-=, \tbytes", max_size=60)
long_text = text_of_any_length(rangeish, st.just("bytes="))


@given(header=long_text, length=lengths)
def test_any_long_header_gives_a_sane_answer(header, length):
    result = parse_range(header, length)
    assert (
        result is None
        or isinstance(result, Unsatisfiable)
        or (0 <= result.start < result.stop <= length)
    )
