"""Console sessions as plain values: records round-trip (a torn one is no
session), expiry against the clock, the cookie's flags, reading a Cookie
header of any shape, and the CSRF comparison."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.console.sessions import (
    COOKIE,
    cleared_cookie,
    cookie_named,
    csrf_valid,
    from_record,
    new_session,
    record_name,
    set_cookie,
    to_record,
)

IDENTIFIER = "Zk3v" * 11  # 44 URL-safe characters, as secrets.token_urlsafe(32) makes


def test_a_session_round_trips_and_ends_on_time():
    name, session = new_session(IDENTIFIER, "csrf-token", 1000.0, 12)
    assert name == record_name(IDENTIFIER) and IDENTIFIER not in name  # named by its hash
    assert from_record(to_record(session)) == session
    assert session.live(1000.0 + 12 * 3600 - 1) and not session.live(1000.0 + 12 * 3600)


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"csrf": ""}', b'{"csrf": "x"}', b"\xff"])
def test_a_torn_or_foreign_record_is_no_session(data):
    assert from_record(data) is None


def test_the_cookie_is_httponly_strict_scoped_and_secure_over_https():
    plain = set_cookie(COOKIE, IDENTIFIER, secure=False, max_age=60).split("; ")
    assert plain == [
        f"{COOKIE}={IDENTIFIER}",
        "Path=/_console/",
        "Max-Age=60",
        "HttpOnly",
        "SameSite=Strict",
    ]
    assert set_cookie(COOKIE, IDENTIFIER, secure=True, max_age=60).endswith("; Secure")
    assert cleared_cookie(COOKIE, secure=False).startswith(f"{COOKIE}=; Path=/_console/; Max-Age=0")


@pytest.mark.parametrize(
    ("header", "found"),
    [
        (f"{COOKIE}={IDENTIFIER}", IDENTIFIER),
        (f"a=1; {COOKIE}={IDENTIFIER}; b=2", IDENTIFIER),
        (f"{COOKIE}=short", None),  # not one this console made
        (f"{COOKIE}={IDENTIFIER}<script>", None),
        (f"other={IDENTIFIER}", None),
        ("", None),
        (None, None),
    ],
)
def test_the_session_cookie_is_read_from_the_header(header, found):
    assert cookie_named(header, COOKIE) == found


@given(st.text(max_size=300))
def test_any_cookie_header_is_read_without_an_exception(header):
    value = cookie_named(header, COOKIE)
    assert value is None or value.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize(
    ("expected", "given", "valid"),
    [
        ("tok", "tok", True),
        ("tok", "tok ", False),
        ("tok", "", False),
        ("tok", None, False),
        (None, None, False),
        ("", "", False),
    ],
)
def test_csrf_tokens_compare_exactly(expected, given, valid):
    assert csrf_valid(expected, given) is valid
