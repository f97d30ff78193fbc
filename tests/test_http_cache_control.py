import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.http.cache_control import (
    DELTA_SECONDS_CAP,
    KNOWN,
    CacheControlError,
    check_response_policy,
    delta_seconds,
    parse_cache_control,
)
from tests.helpers.hostile_text import text_of_any_length


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=86400", {"max-age": "86400"}),
        ("max-age=604800, immutable", {"max-age": "604800", "immutable": None}),
        ("private, no-store", {"private": None, "no-store": None}),
        ("no-cache", {"no-cache": None}),
        ('no-cache="Set-Cookie"', {"no-cache": '"Set-Cookie"'}),
        ("Public,MAX-AGE=1", {"public": None, "max-age": "1"}),
        (
            "s-maxage=60, stale-while-revalidate=30",
            {"s-maxage": "60", "stale-while-revalidate": "30"},
        ),
        ("", {}),
    ],
)
def test_parses(value, expected):
    assert parse_cache_control(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("max_age=3600", "unknown directive 'max_age'"),
        ("maxage=3600", "unknown directive"),
        ("max-age", "needs a number of seconds"),
        ("max-age=1h", "needs a number of seconds"),
        ("max-age=-1", "needs a number of seconds"),
        ("max-age=\u0661", "cannot parse"),
        ("immutable=1", "takes no value"),
        ("no-cache=Set-Cookie", "quoted list"),
        ("max-age=1, max-age=2", "given twice"),
        ("max-age=1;", "cannot parse"),
        ("max-age=1 immutable", "cannot parse"),
    ],
)
def test_rejects(value, message):
    with pytest.raises(CacheControlError, match=message):
        parse_cache_control(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [("no-store, max-age=60", "no-store"), ("private, public", "private")],
)
def test_contradictions(value, message):
    with pytest.raises(CacheControlError, match=message):
        check_response_policy(parse_cache_control(value))


def test_no_cache_with_no_store_is_allowed():
    check_response_policy(parse_cache_control("no-cache, no-store"))


long_text = text_of_any_length(st.text(alphabet='max-age=0123456789, "\\no-cache', max_size=60))


@given(value=long_text, known_only=st.booleans())
def test_any_value_parses_or_raises_only_cache_control_error(value, known_only):
    try:
        directives = parse_cache_control(value, known_only=known_only)
    except CacheControlError:
        return
    assert all(name == name.lower() for name in directives)
    if known_only:
        assert set(directives) <= KNOWN


def test_a_long_run_of_digits_is_seconds_without_converting_them():
    """Strict parsing checks the digits' form; it never needs their value."""
    assert parse_cache_control("max-age=" + "9" * 5_000) == {"max-age": "9" * 5_000}


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("60", 60),
        ('"60"', 60),  # the quoted form, which recipients accept (RFC 9111 section 5.2)
        ("0", 0),
        ("007", 7),
        (str(2**31 - 1), 2**31 - 1),
        (str(2**31), 2**31),
        (str(2**31 + 1), 2**31),  # too large: 2**31 (RFC 9111 section 1.2.2)
        ("9" * 5_000, 2**31),  # never handed to int(), which refuses 4,300 digits
        ("0" * 5_000 + "5", 5),
        (None, None),
        ("", None),
        ('"', None),
        ("-1", None),
        ("1h", None),
        ("\u0661", None),  # an Arabic-Indic one is no ASCII digit
    ],
)
def test_delta_seconds(argument, expected):
    assert delta_seconds(argument) == expected


@given(argument=st.one_of(st.none(), long_text))
def test_delta_seconds_of_anything(argument):
    seconds = delta_seconds(argument)
    assert seconds is None or 0 <= seconds <= DELTA_SECONDS_CAP
