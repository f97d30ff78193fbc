import pytest

from origin.cache_control import CacheControlError, check_response_policy, parse_cache_control


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
