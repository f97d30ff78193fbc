"""Webhooks as values: the verification challenge, the signature over the raw
body (right, wrong, missing, one byte altered), statuses read leniently out of
Meta's envelope, and failed statuses classified from Meta's real wording."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.cloudapi.webhooks import (
    ADVICE,
    CAUSES,
    classify,
    shared_header_valid,
    signature_valid,
    statuses,
    utc_day,
    utc_days,
    verification,
)
from tests.helpers.webhooks import FAILED, envelope
from tests.helpers.webhooks import signed as webhook_signature

SECRET = "app-secret"


def signed(body: bytes, secret: str = SECRET) -> str:
    return webhook_signature(body, secret)


def test_verification_answers_the_challenge_only_to_the_right_token():
    asked = {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"}
    assert verification(asked, "vt") == (200, "1158201444")
    assert verification({**asked, "hub.verify_token": "nope"}, "vt")[0] == 403
    assert verification({**asked, "hub.mode": "unsubscribe"}, "vt")[0] == 403
    assert verification(asked, None)[0] == 503


def test_the_signature_is_over_the_raw_body():
    body = json.dumps(envelope(FAILED)).encode()
    assert signature_valid(SECRET, body, signed(body))
    assert signature_valid(SECRET, body, signed(body).upper().replace("SHA256=", "sha256="))
    assert not signature_valid(SECRET, body, signed(body, "other-secret"))
    assert not signature_valid(SECRET, body, None) and not signature_valid(SECRET, body, "")
    assert not signature_valid(SECRET, body, signed(body).removeprefix("sha256="))


@given(st.integers(0, 10_000), st.integers(1, 255))
def test_one_byte_altered_breaks_the_signature(position, flip):
    body = bytearray(json.dumps(envelope(FAILED)).encode())
    header = signed(bytes(body))
    body[position % len(body)] ^= flip
    assert not signature_valid(SECRET, bytes(body), header)


def test_360dialogs_shared_header():
    assert shared_header_valid(SECRET, SECRET)
    assert not shared_header_valid(SECRET, None) and not shared_header_valid(SECRET, SECRET + "x")


def test_statuses_are_read_out_of_the_envelope():
    delivered = {"id": "wamid.B", "status": "delivered", "timestamp": "1800000100"}
    read = statuses(envelope(FAILED, delivered))
    assert [(s.wamid, s.status, s.timestamp) for s in read] == [
        (FAILED["id"], "failed", 1800000000),
        ("wamid.B", "delivered", 1800000100),
    ]
    assert read[0].phone_number_id == "1234567890" and read[0].recipient_id == "491512345678"
    assert read[0].errors[0].code == 131053 and "http code 404" in read[0].errors[0].details
    assert read[0].key != read[1].key and read[0].key == statuses(envelope(FAILED))[0].key


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "entry",
                        "changes",
                        "value",
                        "statuses",
                        "id",
                        "status",
                        "timestamp",
                        "errors",
                        "code",
                        "metadata",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_any_envelope_is_read_without_an_exception(payload):
    for status in statuses(payload):
        assert status.wamid and isinstance(status.timestamp, int)


@pytest.mark.parametrize(
    ("code", "details", "cause"),
    [
        (
            131053,
            "Downloading media from weblink failed with http code 429, status message "
            "Request ratelimit by fwdproxy, destination matcher asn_list: 47583",
            "meta_rate_limit",
        ),
        (131053, "Downloading media from weblink failed with http code 404", "origin_http_error"),
        (131053, "Downloading media from weblink failed with http code 403", "origin_http_error"),
        (131053, "Downloading media from weblink failed with http code 503", "origin_http_error"),
        (131053, "Downloading media from weblink failed with http code 429", "origin_http_error"),
        (131053, "Unsupported mime type text/html", "redirect_or_html"),
        (131053, "Downloading media from weblink failed with http code 302", "redirect_or_html"),
        (131053, "Downloading media from weblink failed with http code 301", "redirect_or_html"),
        (130429, "Rate limit hit", "unknown"),  # sending too fast: not Meta's fetch limit
        (
            131053,
            "Unsupported Audio mime type audio/opus. Please use one of audio/ogg; "
            "codecs=opus, audio/aac",
            "unsupported_type",
        ),
        (131053, "Media upload error: media file size too big", "too_large"),
        (131053, "Media ID expired", "media_id_expired"),
        (100, "Invalid media id: 1000000001 not found", "media_id_expired"),
        (131026, "Message undeliverable", "unknown"),
        (None, "", "unknown"),
    ],
)
def test_failures_are_classified_from_metas_wording(code, details, cause):
    assert classify(code, details) == cause


def test_every_cause_has_advice():
    assert set(ADVICE) == set(CAUSES) and all(ADVICE.values())


@given(
    st.integers(1_700_000_000, 1_900_000_000),
    st.integers(0, 40 * 86400),
    st.floats(0, 1),
)
def test_the_days_read_cover_every_stamp_in_the_window(start, length, where):
    """A report reads one folder a day: the day of any stamp in the window, and
    of one a day ahead (a sender's clock ahead of ours), is among them."""
    end = start + length
    days = utc_days(start, end)
    assert utc_day(start + where * length) in days and utc_day(end + 86400) in days
    assert len(days) == len(set(days)) <= length // 86400 + 3
