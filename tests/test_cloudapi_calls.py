"""The provider calls as values, for both providers, and when a failed attempt
is tried again: 429, 5xx and no answer, at most four attempts with the first
wait at least 0.2 s; never another 4xx."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.cloudapi.calls import (
    ATTEMPTS,
    ProviderError,
    delete_call,
    message_call,
    read_answer,
    retry_after,
    upload_call,
)
from origin.config import Number, WhatsAppConfig

NUMBER = Number("1234567890", "WHATSAPP_TOKEN", "secret-token")
META = WhatsAppConfig(configured=True, numbers=(NUMBER,))
D360 = WhatsAppConfig(
    configured=True,
    provider="360dialog",
    base_url="https://waba-v2.360dialog.io",
    numbers=(NUMBER,),
)


def test_meta_uploads_to_the_numbers_media_edge_with_a_bearer_token():
    call = upload_call(META, NUMBER, "audio/ogg; codecs=opus")
    assert call.method == "POST" and call.with_file
    assert call.url == "https://graph.facebook.com/v23.0/1234567890/media"
    assert call.headers == {"Authorization": "Bearer secret-token"}
    assert call.fields == {"messaging_product": "whatsapp", "type": "audio/ogg"}


def test_360dialog_uploads_to_media_with_its_key_and_no_number():
    call = upload_call(D360, NUMBER, "image/jpeg")
    assert call.url == "https://waba-v2.360dialog.io/media"
    assert call.headers == {"D360-API-KEY": "secret-token"}


def test_delete_and_send_for_each_provider():
    assert delete_call(META, NUMBER, "42").url.endswith("/v23.0/42?phone_number_id=1234567890")
    assert delete_call(D360, NUMBER, "42").url == "https://waba-v2.360dialog.io/42"
    sent = message_call(META, NUMBER, {"to": "1"})
    assert sent.url.endswith("/v23.0/1234567890/messages") and sent.body == {"to": "1"}
    assert message_call(D360, NUMBER, {}).url == "https://waba-v2.360dialog.io/messages"


def test_a_call_never_prints_its_secret():
    assert "secret-token" not in repr(upload_call(META, NUMBER, "image/png"))
    assert "secret-token" not in repr(NUMBER) and "secret-token" not in repr(META)


@pytest.mark.parametrize(
    ("status", "attempt", "header", "wait"),
    [
        (429, 1, None, 0.25),
        (503, 2, None, 0.5),
        (0, 3, None, 1.0),  # no answer at all
        (429, 1, "2", 2.0),  # the provider's Retry-After, when longer
        (429, 1, "600", 4.0),  # ... but never past the cap
        (500, ATTEMPTS, None, None),  # the fourth attempt was the last
        (400, 1, None, None),
        (401, 1, None, None),
        (404, 1, None, None),
        (413, 1, None, None),
    ],
)
def test_what_is_tried_again(status, attempt, header, wait):
    assert retry_after(status, attempt, header) == wait


@given(st.integers(400, 499).filter(lambda s: s != 429), st.integers(1, 10))
def test_a_4xx_other_than_429_is_never_tried_again(status, attempt):
    assert retry_after(status, attempt) is None


@given(st.sampled_from([0, 429, 500, 502, 503, 504]))
def test_at_most_four_attempts_and_the_first_wait_at_least_a_fifth_of_a_second(status):
    waits = [retry_after(status, attempt) for attempt in range(1, 10)]
    assert waits[0] >= 0.2 and sum(wait is not None for wait in waits) == ATTEMPTS - 1


def test_answers_are_read_into_an_id_or_the_providers_words():
    assert read_answer(200, b'{"id": "777"}', "id") == "777"
    wamid = json.dumps({"messages": [{"id": "wamid.X"}]}).encode()
    assert read_answer(200, wamid, "wamid") == "wamid.X"
    with pytest.raises(ProviderError) as refused:
        read_answer(400, b'{"error": {"message": "Param file is invalid", "code": 100}}', "id")
    assert refused.value.code == "refused" and "Param file is invalid" in str(refused.value)
    assert "(code 100)" in str(refused.value)
    with pytest.raises(ProviderError) as limited:
        read_answer(429, b"<html>slow down</html>", "id")
    assert limited.value.code == "rate_limited" and "slow down" in str(limited.value)
    with pytest.raises(ProviderError, match="without id"):
        read_answer(200, b"{}", "id")
