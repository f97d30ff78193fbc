"""Signed links: verify() refuses whatever a query holds with a reason, never an
exception (which the server would send as a 500), whatever its length or alphabet."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.serve.links import (
    MAX_DURATION_DIGITS,
    MAX_EXPIRES_DIGITS,
    parse_duration,
    signature,
    signed_query,
    verify,
)
from tests.helpers.hostile_text import text_of_any_length

KEY = b"test-signing-key"
PATH = "/invoices/INV 1.pdf"
NOW = 1_700_000_000
LATER = NOW + 3600


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (signed_query(KEY, PATH, LATER), None),
        (signed_query(KEY, PATH, NOW), "expired"),
        (signed_query(KEY, "/invoices/other.pdf", LATER), "does not match"),
        ("", "needs ?expires"),
        (f"expires={LATER}", "needs ?expires"),
        (f"{signed_query(KEY, PATH, LATER)}&expires={LATER}", "needs ?expires"),
        (f"expires=-{LATER}&sig=x", "not a whole number"),
        ("expires=%D9%A1&sig=x", "not a whole number"),  # an Arabic-Indic digit
        (f"expires={'9' * 5_000}&sig=x", "out of range"),  # int() would refuse it
        (f"expires={'9' * (MAX_EXPIRES_DIGITS + 1)}&sig=x", "out of range"),
        (f"expires={LATER}&sig=%C3%A9", "does not match"),  # compare_digest refuses non-ASCII
        (f"expires={LATER}&sig={'a' * 100_000}", "does not match"),
        # Leading zeros change neither the value signed nor the verdict.
        (f"expires={'0' * 5_000}{LATER}&sig={signature(KEY, PATH, LATER)}", None),
    ],
)
def test_verify(query, reason):
    result = verify(KEY, PATH, query, NOW)
    assert result is None if reason is None else reason in result


def test_the_longest_expires_taken_is_verified_normally():
    expires = int("9" * MAX_EXPIRES_DIGITS)
    assert verify(KEY, PATH, signed_query(KEY, PATH, expires), NOW) is None


long_text = text_of_any_length(st.text(alphabet="expires=sig&0123456789%abcdefC3A9", max_size=60))
digits = st.builds(
    lambda head, times: head * times,
    st.text("0123456789", min_size=1, max_size=8),
    st.integers(1, 2_000),
)


@given(query=long_text)
def test_any_query_is_refused_with_a_reason(query):
    assert isinstance(verify(KEY, PATH, query, NOW), str)


@given(expires=digits, sig=long_text)
def test_any_expires_and_sig_are_refused_with_a_reason(expires, sig):
    result = verify(KEY, PATH, f"expires={expires}&sig={sig}", NOW)
    assert isinstance(result, str)


@given(expires=st.integers(NOW + 1, int("9" * MAX_EXPIRES_DIGITS)))
def test_every_signed_query_verifies_until_it_expires(expires):
    query = signed_query(KEY, PATH, expires)
    assert verify(KEY, PATH, query, NOW) is None
    assert "expired" in verify(KEY, PATH, query, expires)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604800)]
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["0", "", "1w", "-1h", "1.5h", "9" * (MAX_DURATION_DIGITS + 1), "9" * 5_000 + "s"]
)
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@given(text=long_text)
def test_parse_duration_of_anything_is_seconds_or_value_error(text):
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        assert "is not a duration" in str(error)
    else:
        assert 0 < seconds < 10**MAX_DURATION_DIGITS * 86400
