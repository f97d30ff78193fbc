"""A media ID read against the clock (injected, never slept): valid, due for
renewal within renew_days of its 30-day expiry, expired; its record round-trips
and a torn one is no record."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.cloudapi.media_ids import (
    LIFETIME,
    MediaId,
    from_record,
    iso_utc,
    record_name,
    to_record,
    to_renew,
)

DAY = 86400
UPLOADED = 1_800_000_000.0
ID = MediaId("1000000000000001", "ab" * 32, "meta", "1234567890", UPLOADED)


@pytest.mark.parametrize(
    ("days", "valid", "due_in_3"),
    [
        (0, True, False),
        (26, True, False),
        (27.5, True, True),
        (29.99, False, True),
        (31, False, True),
    ],
)
def test_an_id_through_its_thirty_days(days, valid, due_in_3):
    now = UPLOADED + days * DAY
    assert ID.valid(now) is valid and ID.due(now, 3) is due_in_3


def test_renew_days_zero_renews_only_what_has_expired():
    assert not ID.due(UPLOADED + LIFETIME - 1, 0) and ID.due(UPLOADED + LIFETIME, 0)


@given(st.floats(0, 60 * DAY), st.integers(0, 29))
def test_an_id_handed_out_as_valid_is_never_past_its_expiry(age, renew_days):
    now = UPLOADED + age
    if ID.valid(now):
        assert now < ID.expires_at
    if not ID.due(now, renew_days):
        assert ID.valid(now) or renew_days == 0


def test_records_round_trip_and_a_torn_one_is_none():
    assert from_record(to_record(ID)) == ID
    assert from_record(to_record(ID)[:-3]) is None
    assert from_record(b'{"media_id": 1}') is None
    assert (
        record_name("meta", "1234567890", "ab" * 32)
        == f"whatsapp/ids/meta/1234567890/{'ab' * 32}.json"
    )


def test_times_are_iso_8601_utc():
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert iso_utc(ID.expires_at) == "2027-02-14T08:00:00Z"


@pytest.mark.parametrize(
    ("age_days", "older_than", "chosen"),
    [
        (1, None, False),  # not due: left alone
        (27.5, None, True),  # due (renew_days 3): renewed
        (1, 0, True),  # --older-than 0: every ID
        (19.9, 20, False),
        (20, 20, True),
    ],
)
def test_renew_chooses_the_due_ids_or_those_older_than_asked(age_days, older_than, chosen):
    assert to_renew(ID, UPLOADED + age_days * DAY, older_than, 3) is chosen


def test_a_record_without_a_path_reads_back_with_an_empty_one():
    old = to_record(ID).replace(b', "path": ""', b"")
    assert b'"path"' not in old and from_record(old) == ID
