"""Precondition evaluation in RFC 9110 section 13.2.2 order."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.http.conditional import Preconditions, evaluate_preconditions, if_range_allows
from origin.http.dates import (
    MAX_HTTP_DATE_CHARS,
    _memoised_parse_http_date,
    format_http_date,
    parse_http_date,
)
from origin.http.etags import ETag
from tests.helpers.hostile_text import text_of_any_length

LM = 1_700_000_000
LM_DATE = format_http_date(LM)
BEFORE = format_http_date(LM - 1)
AFTER = format_http_date(LM + 1)
TAG = ETag("v1", False)
WEAK_TAG = ETag("v1", True)


@pytest.mark.parametrize(
    ("preconditions", "etag", "last_modified", "expected"),
    [
        (Preconditions(), TAG, LM, None),
        # If-Match: strong comparison, * matches any existing file
        (Preconditions(if_match='"v1"'), TAG, LM, None),
        (Preconditions(if_match='"v0", "v1"'), TAG, LM, None),
        (Preconditions(if_match='"v2"'), TAG, LM, 412),
        (Preconditions(if_match='W/"v1"'), TAG, LM, 412),
        (Preconditions(if_match='"v1"'), WEAK_TAG, LM, 412),
        (Preconditions(if_match="*"), TAG, LM, None),
        (Preconditions(if_match="*"), None, LM, None),
        (Preconditions(if_match='"v1"'), None, LM, 412),
        (Preconditions(if_match='"broken'), TAG, LM, 412),
        # If-Unmodified-Since, only without If-Match
        (Preconditions(if_unmodified_since=LM_DATE), TAG, LM, None),
        (Preconditions(if_unmodified_since=AFTER), TAG, LM, None),
        (Preconditions(if_unmodified_since=BEFORE), TAG, LM, 412),
        (Preconditions(if_unmodified_since="yesterday"), TAG, LM, None),
        (Preconditions(if_unmodified_since=BEFORE), TAG, None, None),
        (Preconditions(if_match='"v1"', if_unmodified_since=BEFORE), TAG, LM, None),
        # If-None-Match: weak comparison
        (Preconditions(if_none_match='"v1"'), TAG, LM, 304),
        (Preconditions(if_none_match='W/"v1"'), TAG, LM, 304),
        (Preconditions(if_none_match='"v1"'), WEAK_TAG, LM, 304),
        (Preconditions(if_none_match='"v0", "v1"'), TAG, LM, 304),
        (Preconditions(if_none_match='"v2"'), TAG, LM, None),
        (Preconditions(if_none_match="*"), TAG, LM, 304),
        (Preconditions(if_none_match='"v1"'), None, LM, None),
        (Preconditions(if_none_match="garbage\x00"), TAG, LM, None),
        # If-Modified-Since, only without If-None-Match
        (Preconditions(if_modified_since=LM_DATE), TAG, LM, 304),
        (Preconditions(if_modified_since=AFTER), TAG, LM, 304),
        (Preconditions(if_modified_since=BEFORE), TAG, LM, None),
        (Preconditions(if_modified_since="not a date"), TAG, LM, None),
        (Preconditions(if_modified_since=f"{LM_DATE}, {LM_DATE}"), TAG, LM, None),
        (Preconditions(if_modified_since=LM_DATE), TAG, None, None),
        (Preconditions(if_none_match='"v2"', if_modified_since=LM_DATE), TAG, LM, None),
        (Preconditions(if_none_match='"v1"', if_modified_since=BEFORE), TAG, LM, 304),
        # 412 outranks 304
        (Preconditions(if_match='"v2"', if_none_match='"v1"'), TAG, LM, 412),
        # the obsolete date forms are accepted too
        (Preconditions(if_modified_since="Tuesday, 14-Nov-23 22:13:20 GMT"), TAG, LM, 304),
        (Preconditions(if_modified_since="Tue Nov 14 22:13:20 2023"), TAG, LM, 304),
    ],
)
def test_evaluate_preconditions(preconditions, etag, last_modified, expected):
    assert evaluate_preconditions(preconditions, etag, last_modified) == expected


@pytest.mark.parametrize(
    ("if_range", "etag", "last_modified", "allowed"),
    [
        (None, TAG, LM, True),
        ('"v1"', TAG, LM, True),
        ('"v2"', TAG, LM, False),
        ('W/"v1"', TAG, LM, False),  # weak tags never satisfy If-Range
        ('"v1"', WEAK_TAG, LM, False),
        ('"v1"', None, LM, False),
        (LM_DATE, TAG, LM, True),
        (BEFORE, TAG, LM, False),
        (AFTER, TAG, LM, False),  # a date must match exactly
        (LM_DATE, TAG, None, False),
        ("garbage", TAG, LM, False),
    ],
)
def test_if_range(if_range, etag, last_modified, allowed):
    assert if_range_allows(if_range, etag, last_modified) is allowed


header_text = st.one_of(st.none(), st.text(max_size=40))


@given(
    if_match=header_text,
    ius=header_text,
    inm=header_text,
    ims=header_text,
    etag=st.one_of(st.none(), st.builds(ETag, st.text(max_size=5), st.booleans())),
    last_modified=st.one_of(st.none(), st.integers(0, 2**33)),
)
def test_never_fails_and_answers_only_304_or_412(if_match, ius, inm, ims, etag, last_modified):
    result = evaluate_preconditions(Preconditions(if_match, ius, inm, ims), etag, last_modified)
    assert result in (None, 304, 412)
    if if_match is None and ius is None:
        assert result != 412
    if inm is None and ims is None:
        assert result != 304


@given(last_modified=st.integers(0, 2**33), since=st.integers(0, 2**33))
def test_if_modified_since_by_date(last_modified, since):
    result = evaluate_preconditions(
        Preconditions(if_modified_since=format_http_date(since)), None, last_modified
    )
    assert result == (304 if last_modified <= since else None)


long_text = text_of_any_length(st.sampled_from([LM_DATE, '"v1"', 'W/"v1"', "*", ", "]))
long_header = st.one_of(st.none(), long_text)


@given(if_match=long_header, ius=long_header, inm=long_header, ims=long_header)
def test_long_values_never_fail_and_answer_only_304_or_412(if_match, ius, inm, ims):
    result = evaluate_preconditions(Preconditions(if_match, ius, inm, ims), TAG, LM)
    assert result in (None, 304, 412)
    if if_match is None and ius is None:
        assert result != 412
    if inm is None and ims is None:
        assert result != 304


@given(value=long_text)
def test_long_if_range_values_never_fail(value):
    assert if_range_allows(value, TAG, LM) in (True, False)


def date_memo_calls() -> int:
    info = _memoised_parse_http_date.cache_info()
    return info.hits + info.misses


@given(value=long_text)
def test_any_date_value_parses_or_is_ignored_and_long_ones_are_never_memoised(value):
    calls = date_memo_calls()
    parsed = parse_http_date(value)
    assert parsed is None or isinstance(parsed, int)
    assert date_memo_calls() == calls + (len(value) <= MAX_HTTP_DATE_CHARS)
    if len(value) > MAX_HTTP_DATE_CHARS:
        assert parsed is None


@given(seconds=st.integers(0, 253402300799))  # to the end of the year 9999
def test_every_date_we_send_is_short_enough_to_be_read_back(seconds):
    assert parse_http_date(format_http_date(seconds)) == seconds


@pytest.mark.parametrize(
    ("preconditions", "expected"),
    [
        # An over-long list is malformed: If-Match fails, If-None-Match is ignored.
        (Preconditions(if_match='"v1", ' + '"x", ' * 1_000), 412),
        (Preconditions(if_none_match='"v1", ' + '"x", ' * 1_000), None),
        (Preconditions(if_none_match='"v1", ' + '"x", ' * 1_000, if_modified_since=LM_DATE), None),
        # An over-long date is no date: ignored.
        (Preconditions(if_modified_since=LM_DATE + " " * 2_000_000), None),
        (Preconditions(if_unmodified_since=BEFORE + " " * 2_000_000), None),
    ],
)
def test_over_long_values(preconditions, expected):
    assert evaluate_preconditions(preconditions, TAG, LM) == expected


def test_distinct_long_dates_leave_the_memo_as_it_was():
    before = _memoised_parse_http_date.cache_info()
    for number in range(100):
        assert parse_http_date(f"{LM_DATE}{' ' * number}{'x' * 2_000_000}") is None
    after = _memoised_parse_http_date.cache_info()
    assert (after.hits, after.misses, after.currsize) == (
        before.hits,
        before.misses,
        before.currsize,
    )
