"""The failure report's join, as plain values: Meta's fetches read from JSON
access-log lines (every other line passed over), the ten minutes before a
status, the failed statuses of the --since window, the cause and advice of
each, and the report grouped by cause."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.cloudapi.failures import (
    FETCH_WINDOW,
    Fetch,
    by_cause,
    failed_since,
    fetch_from_line,
    fetches_before,
    format_failures,
    joined,
)
from origin.cloudapi.webhooks import ADVICE, Status, StatusError, cause_of

STAMP = 1_800_000_000  # 2027-01-15T08:00:00Z
PATH = "/campaigns/promo.jpg"


def log_line(**fields) -> str:
    entry = {
        "time": "2027-01-15T07:58:20.125+00:00",
        "client": "173.252.127.1",
        "method": "GET",
        "path": PATH,
        "query": "",
        "status": 200,
        "bytes": 48213,
        "user_agent": "facebookexternalua",
        "meta_fetch": True,
    }
    return json.dumps(entry | fields) + "\n"


def failed(wamid="wamid.A", stamp=STAMP, details="http code 404", code=131053) -> Status:
    return Status(
        wamid, "failed", stamp, errors=(StatusError(code, "Media upload error", "", details),)
    )


def test_a_meta_fetch_is_read_from_its_access_log_line():
    fetch = fetch_from_line(log_line())
    assert fetch == Fetch(
        "2027-01-15T07:58:20.125+00:00", STAMP - 100 + 0.125, PATH, 200, 48213, "facebookexternalua"
    )
    assert fetch.to_json() == {
        "time": "2027-01-15T07:58:20.125+00:00",
        "status": 200,
        "bytes": 48213,
        "user_agent": "facebookexternalua",
    }


@pytest.mark.parametrize(
    "line",
    [
        log_line(meta_fetch=False, user_agent="Mozilla/5.0"),  # a browser
        '2027-01-15T07:58:20+00:00 173.252.127.1 "GET /campaigns/promo.jpg" 200 48213\n',  # plain
        log_line()[:60],  # cut short
        log_line(time="yesterday"),
        log_line(status="two hundred"),
        "",
    ],
)
def test_any_other_line_is_passed_over(line):
    assert fetch_from_line(line) is None


@given(st.text(max_size=300))
def test_no_line_raises(line):
    fetch_from_line(line)
    fetch_from_line('{"meta_fetch": true, ' + line)


def fetch_at(at: float, path: str = PATH) -> Fetch:
    return Fetch("t", at, path, 200, 1, "facebookexternalua")


def test_the_fetches_joined_are_those_of_the_file_in_the_ten_minutes_before():
    fetches = [
        fetch_at(STAMP - FETCH_WINDOW - 1),  # too early
        fetch_at(STAMP - FETCH_WINDOW),
        fetch_at(STAMP - 5, "/other.jpg"),  # another file
        fetch_at(STAMP - 30),
        fetch_at(STAMP),
        fetch_at(STAMP + 0.999),  # in the status's own second (stamped in whole seconds)
        fetch_at(STAMP + 1),  # after the status
    ]
    found = fetches_before(fetches, PATH, STAMP)
    assert [f.at for f in found] == [STAMP - FETCH_WINDOW, STAMP - 30, STAMP, STAMP + 0.999]


@given(st.lists(st.tuples(st.floats(-2000, 2000), st.booleans()), max_size=30), st.randoms())
def test_the_join_depends_on_the_fetches_not_on_their_order(offsets, random):
    """Log lines come in any order (batches of several workers): the join is the
    same, oldest first, and only ever the file's own fetches."""
    fetches = [fetch_at(STAMP + offset, PATH if same else "/b.jpg") for offset, same in offsets]
    found = fetches_before(fetches, PATH, STAMP)
    shuffled = list(fetches)
    random.shuffle(shuffled)
    assert fetches_before(shuffled, PATH, STAMP) == found
    assert [f.at for f in found] == sorted(f.at for f in found)
    assert all(f.path == PATH and f in fetches for f in found)


def test_the_since_window_counts_from_each_status_own_timestamp():
    statuses = [
        failed("wamid.old", STAMP - 7200),
        Status("wamid.ok", "delivered", STAMP - 60),
        failed("wamid.new", STAMP - 60),
        failed("wamid.edge", STAMP - 3600),
    ]
    assert [s.wamid for s in failed_since(statuses, 3600, STAMP)] == ["wamid.edge", "wamid.new"]
    assert len(failed_since(statuses, 3 * 3600, STAMP)) == 3


def test_a_joined_failure_carries_its_cause_advice_file_and_fetches():
    fetches = (fetch_at(STAMP - 30),)
    failure = joined(failed(details="http code 429, ratelimit by fwdproxy"), PATH, "ok", fetches)
    body = failure.to_json()
    assert list(body) == [
        "wamid",
        "status",
        "timestamp",
        "code",
        "details",
        "cause",
        "advice",
        "path",
        "verdict",
        "fetches",
    ]
    assert body["timestamp"] == "2027-01-15T08:00:00Z" and body["code"] == 131053
    assert body["cause"] == "meta_rate_limit" and body["advice"] == ADVICE["meta_rate_limit"]
    assert body["path"] == PATH and body["verdict"] == "ok" and len(body["fetches"]) == 1


def test_a_failure_nothing_joins_has_nulls_and_no_fetches():
    body = joined(failed(), None, None, ()).to_json()
    assert body["path"] is None and body["verdict"] is None and body["fetches"] == []


def test_an_error_without_details_is_read_from_its_message():
    status = Status(
        "wamid.A", "failed", STAMP, errors=(StatusError(131053, "", "Media file too large", ""),)
    )
    assert cause_of(status) == "too_large"
    assert joined(status, None, None, ()).details == "Media file too large"


def test_only_a_failed_status_has_a_cause():
    assert cause_of(Status("wamid.A", "delivered", STAMP)) is None
    assert cause_of(Status("wamid.A", "failed", STAMP)) == "unknown"  # no errors at all


def test_the_report_groups_by_cause_in_a_fixed_order_with_the_advice():
    failures = [
        joined(failed("wamid.1", details="http code 404"), PATH, "ok", (fetch_at(STAMP - 9),)),
        joined(failed("wamid.2", details="ratelimit by fwdproxy"), PATH, "ok", ()),
        joined(failed("wamid.3", details="http code 503"), None, None, ()),
    ]
    assert list(by_cause(failures)) == ["meta_rate_limit", "origin_http_error"]
    text = format_failures(failures, "1h", log_read=True)
    lines = text.splitlines()
    assert (
        lines[0] == "meta_rate_limit (1)" and lines[1] == f"  advice: {ADVICE['meta_rate_limit']}"
    )
    assert "origin_http_error (2)" in lines
    assert (
        f"    file: {PATH} (check: ok); Meta fetched it once in the 10 minutes before: 200" in lines
    )
    assert "Meta did not fetch it in the 10 minutes before" in text
    assert "file: unknown (not sent by media-origin whatsapp message --send)" in text
    assert lines[-1] == "3 failed messages in the last 1h"


def test_the_report_says_when_the_log_was_not_read_and_when_nothing_failed():
    failure = joined(failed(), PATH, None, ())
    text = format_failures([failure], "24h", log_read=False)
    assert "check: gone (no longer stored)" in text and "give --access-log FILE" in text
    assert format_failures([], "24h", log_read=False) == "no failed messages in the last 24h\n"
