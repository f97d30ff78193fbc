"""The client against a provider on a real socket (the loopback fake speaking
Meta's and 360dialog's contract): the multipart upload with its auth, retries
with backoff on 429 and 5xx, none on another 4xx, no answer within the budget."""

import hashlib
import time

import pytest

from origin.cloudapi.calls import ProviderError, delete_call, upload_call
from origin.cloudapi.client import Attachment, Client
from origin.config import Number, WhatsAppConfig
from tests.helpers.fake_provider import FakeProvider
from tests.helpers.servers import free_port

TOKEN = "test-token-123"
NUMBER = Number("1234567890", "WHATSAPP_TOKEN", TOKEN)


def config(provider: str, base_url: str, timeout: float = 10.0) -> WhatsAppConfig:
    return WhatsAppConfig(
        configured=True, provider=provider, base_url=base_url, numbers=(NUMBER,), timeout=timeout
    )


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "promo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    return Attachment(path, "promo.jpg", "image/jpeg")


@pytest.mark.parametrize("provider", ["meta", "360dialog"])
def test_an_upload_carries_the_files_bytes_its_type_and_the_providers_auth(provider, photo):
    with FakeProvider(provider, {NUMBER.phone_number_id: TOKEN}) as fake:
        settings = config(provider, fake.base_url)
        client = Client(settings.timeout)
        media_id = client.send(upload_call(settings, NUMBER, "image/jpeg"), "id", photo)
        client.close()
    upload = fake.media[media_id]
    assert upload.fields == {"messaging_product": "whatsapp", "type": "image/jpeg"}
    assert upload.file_name == "promo.jpg" and upload.file_type == "image/jpeg"
    assert upload.file_sha256 == hashlib.sha256(photo.path.read_bytes()).hexdigest()
    if provider == "meta":
        assert upload.path == "/v23.0/1234567890/media"
        assert upload.headers["authorization"] == f"Bearer {TOKEN}"
    else:
        assert upload.path == "/media" and upload.headers["d360-api-key"] == TOKEN
        assert "authorization" not in upload.headers


def test_a_wrong_token_is_refused_once_not_retried(photo):
    with FakeProvider("meta", {NUMBER.phone_number_id: "another"}) as fake:
        client = Client(10)
        with pytest.raises(ProviderError) as refused:
            client.send(
                upload_call(config("meta", fake.base_url), NUMBER, "image/jpeg"), "id", photo
            )
    assert refused.value.status == 401 and len(fake.calls) == 1
    assert TOKEN not in str(refused.value)


def test_429_then_success_backs_off(photo):
    with FakeProvider("meta", {NUMBER.phone_number_id: TOKEN}) as fake:
        fake.fail_next(429, 503)
        client = Client(10)
        media_id = client.send(
            upload_call(config("meta", fake.base_url), NUMBER, "image/jpeg"), "id", photo
        )
    assert media_id in fake.media and len(fake.calls) == 3
    gaps = [b.at - a.at for a, b in zip(fake.calls, fake.calls[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[1] >= gaps[0]


def test_a_400_is_not_retried(photo):
    with FakeProvider("meta", {NUMBER.phone_number_id: TOKEN}) as fake:
        fake.fail_next(400)
        with pytest.raises(ProviderError) as refused:
            Client(10).send(
                upload_call(config("meta", fake.base_url), NUMBER, "image/jpeg"), "id", photo
            )
    assert refused.value.code == "refused" and len(fake.calls) == 1


def test_at_most_four_attempts(photo):
    with FakeProvider("meta", {NUMBER.phone_number_id: TOKEN}) as fake:
        fake.fail_next(500, 500, 500, 500, 500)
        with pytest.raises(ProviderError):
            Client(30).send(
                upload_call(config("meta", fake.base_url), NUMBER, "image/jpeg"), "id", photo
            )
    assert len(fake.calls) == 4


def test_no_answer_within_the_budget_gives_up_on_time(photo):
    with FakeProvider("meta", {NUMBER.phone_number_id: TOKEN}) as fake:
        fake.pause_next(5)
        started = time.monotonic()
        with pytest.raises(ProviderError) as gone:
            Client(1.0).send(
                upload_call(config("meta", fake.base_url, 1.0), NUMBER, "image/jpeg"), "id", photo
            )
    assert gone.value.code == "unreachable" and time.monotonic() - started < 2.5


def test_an_unreachable_provider(photo):
    settings = config("meta", f"http://127.0.0.1:{free_port()}", timeout=2.0)
    started = time.monotonic()
    with pytest.raises(ProviderError) as gone:
        Client(2.0).send(upload_call(settings, NUMBER, "image/jpeg"), "id", photo)
    assert gone.value.status == 0 and time.monotonic() - started < 3


def test_delete_reaches_the_provider(photo):
    with FakeProvider("meta", {NUMBER.phone_number_id: TOKEN}) as fake:
        settings = config("meta", fake.base_url)
        client = Client(10)
        media_id = client.send(upload_call(settings, NUMBER, "image/jpeg"), "id", photo)
        client.send(delete_call(settings, NUMBER, media_id), "success")
    assert fake.deleted == [media_id] and media_id not in fake.media
