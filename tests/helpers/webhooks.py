"""Status deliveries as Meta sends them, for the webhook tests: the envelope,
a failed media status in Meta's own wording, and its X-Hub-Signature-256."""

from __future__ import annotations

import hashlib
import hmac
import json

FAILED = {
    "id": "wamid.HBgLMTU1NTAwMDExMTEVAgARGBI=",
    "status": "failed",
    "timestamp": "1800000000",
    "recipient_id": "491512345678",
    "errors": [
        {
            "code": 131053,
            "title": "Media upload error",
            "message": "Media upload error",
            "error_data": {"details": "Downloading media from weblink failed with http code 404"},
        }
    ],
}


def envelope(*statuses: dict) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1234567890"},
        "statuses": list(statuses),
    }
    changes = [{"field": "messages", "value": value}]
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": changes}]}


def delivery(*statuses: dict) -> bytes:
    """The raw body of a POST carrying these statuses."""
    return json.dumps(envelope(*statuses)).encode()


def signed(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
