"""The status webhook over a real socket: Meta's verification challenge, the
signature over the raw body (right, wrong, missing, one byte altered), 360dialog's
shared header, a repeated delivery stored once, and an answer within a second."""

import json
import time

import pytest

from tests.helpers.servers import start_server, write_config
from tests.helpers.webhooks import FAILED, delivery, signed

APP_SECRET = "app-secret-5566"
VERIFY = "verify-token-9911"
ENV = {
    "HOOK_API_TOKEN": "hook-api",
    "WHATSAPP_TOKEN": "wa-token-1",
    "WHATSAPP_APP_SECRET": APP_SECRET,
    "WHATSAPP_VERIFY_TOKEN": VERIFY,
}


def signature(body: bytes) -> str:
    return signed(body, APP_SECRET)


def serve(tmp_path, provider="meta"):
    (tmp_path / "media").mkdir(exist_ok=True)
    config = write_config(
        tmp_path,
        f"""
[api]
token_env = "HOOK_API_TOKEN"

[whatsapp]
provider = "{provider}"
base_url = "http://127.0.0.1:9"
phone_number_id = "1234567890"
""",
    )
    return start_server(config, tmp_path / "media", env=ENV)


def kept(origin):
    return sorted((origin.root / ".media-origin/whatsapp/statuses").rglob("*.json"))


def post(origin, body, headers):
    return origin.client().post(
        "/_whatsapp/webhook", content=body, headers={"Content-Type": "application/json", **headers}
    )


def test_the_verification_challenge(tmp_path):
    with serve(tmp_path) as origin:
        asked = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
        answer = origin.client().get("/_whatsapp/webhook", params=asked)
        assert answer.status_code == 200 and answer.text == "1158201444"
        wrong = origin.client().get("/_whatsapp/webhook", params={**asked, "hub.verify_token": "x"})
        assert wrong.status_code == 403 and "1158201444" not in wrong.text


def test_a_signed_delivery_is_kept_once_and_answered_fast(tmp_path):
    body = delivery(FAILED, {"id": "wamid.B", "status": "delivered", "timestamp": "1800000005"})
    with serve(tmp_path) as origin:
        started = time.monotonic()
        answer = post(origin, body, {"X-Hub-Signature-256": signature(body)})
        assert time.monotonic() - started < 1
        assert answer.status_code == 200 and answer.json() == {"stored": 2, "repeated": 0}
        again = post(origin, body, {"X-Hub-Signature-256": signature(body)})
        assert again.json() == {"stored": 0, "repeated": 2} and len(kept(origin)) == 2
        records = [json.loads(path.read_bytes()) for path in kept(origin)]
        failed = next(record for record in records if record["status"] == "failed")
        assert failed["wamid"] == FAILED["id"] and failed["errors"][0]["code"] == 131053
        assert APP_SECRET not in origin.stderr() + origin.stdout()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha256="},
        {"X-Hub-Signature-256": "md5=abc"},
    ],
    ids=["missing", "wrong", "empty", "other-scheme"],
)
def test_an_unsigned_or_wrongly_signed_delivery_is_401_and_stores_nothing(tmp_path, headers):
    with serve(tmp_path) as origin:
        answer = post(origin, delivery(FAILED), headers)
        assert answer.status_code == 401 and answer.json()["error"] == "bad_signature"
        assert kept(origin) == []


def test_a_body_altered_by_one_byte_is_refused(tmp_path):
    body = delivery(FAILED)
    altered = body.replace(b"http code 404", b"http code 405")
    with serve(tmp_path) as origin:
        assert post(origin, altered, {"X-Hub-Signature-256": signature(body)}).status_code == 401
        assert kept(origin) == []


def test_360dialog_checks_its_shared_header(tmp_path):
    with serve(tmp_path, "360dialog") as origin:
        assert post(origin, delivery(FAILED), {"X-Webhook-Secret": "nope"}).status_code == 401
        signed_only = post(
            origin, delivery(FAILED), {"X-Hub-Signature-256": signature(delivery(FAILED))}
        )
        assert signed_only.status_code == 401  # Meta's signature is not 360dialog's proof
        answer = post(origin, delivery(FAILED), {"X-Webhook-Secret": APP_SECRET})
        assert answer.status_code == 200 and answer.json()["stored"] == 1
