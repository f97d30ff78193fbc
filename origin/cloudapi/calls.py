"""The provider's HTTP contract as plain values: each call the bridge makes to
Meta's Graph API or to 360dialog (upload, delete, send a message) built as a
``Call`` record, each answer read into an ID or a ``ProviderError``, and whether
a failed attempt is tried again and after how long. No I/O: ``client.py`` sends
the calls this module builds, and asks ``retry_after`` what to do next.

Meta: ``{base_url}/{api_version}/{phone_number_id}/media`` with a bearer token.
360dialog: ``{base_url}/media`` with a ``D360-API-KEY`` header (the key belongs
to one number, so no number in the path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from origin.config import Number, WhatsAppConfig

ATTEMPTS = 4  # at most, for one call
FIRST_WAIT = 0.25  # seconds before the second attempt; doubled each time after
MAX_WAIT = 4.0  # however long a Retry-After asks for, within the call's timeout
RETRIED = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    url: str
    headers: dict[str, str] = field(repr=False)  # carries the secret: never printed
    fields: dict[str, str] | None = None  # multipart form fields, beside the file
    body: dict[str, Any] | None = None  # a JSON body
    with_file: bool = False  # the stored bytes go along as the form's ``file``


class ProviderError(Exception):
    """A call that failed for good: what the provider said, without the secret.
    ``status`` is 0 when no answer came; ``code`` is "unreachable",
    "rate_limited", "refused", "failed" (5xx) or "bad_answer"."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _root(config: WhatsAppConfig) -> str:
    if config.provider == "meta":
        return f"{config.base_url}/{config.api_version}"
    return config.base_url


def _auth(config: WhatsAppConfig, number: Number) -> dict[str, str]:
    if config.provider == "meta":
        return {"Authorization": f"Bearer {number.token}"}
    return {"D360-API-KEY": number.token}


def upload_call(config: WhatsAppConfig, number: Number, content_type: str) -> Call:
    """POST the file as multipart: ``file`` (with its name and type), ``type``
    (the MIME type without parameters) and ``messaging_product``."""
    path = f"/{number.phone_number_id}/media" if config.provider == "meta" else "/media"
    fields = {"messaging_product": "whatsapp", "type": content_type.split(";")[0].strip()}
    return Call("POST", _root(config) + path, _auth(config, number), fields, with_file=True)


def delete_call(config: WhatsAppConfig, number: Number, media_id: str) -> Call:
    query = f"?phone_number_id={number.phone_number_id}" if config.provider == "meta" else ""
    return Call("DELETE", f"{_root(config)}/{media_id}{query}", _auth(config, number))


def message_call(config: WhatsAppConfig, number: Number, body: dict[str, Any]) -> Call:
    path = f"/{number.phone_number_id}/messages" if config.provider == "meta" else "/messages"
    headers = _auth(config, number) | {"Content-Type": "application/json"}
    return Call("POST", _root(config) + path, headers, body=body)


def retry_after(status: int, attempt: int, retry_after_header: str | None = None) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None: do not retry.

    Only what may pass is retried: a 429 (the provider's rate limit), a 5xx, or
    no answer at all (status 0). Any other 4xx is final, as 360dialog asks.
    """
    if attempt >= ATTEMPTS or (status != 0 and status not in RETRIED):
        return None
    wait = FIRST_WAIT * 2 ** (attempt - 1)
    if retry_after_header and retry_after_header.strip().isdigit():
        wait = max(wait, float(retry_after_header.strip()))
    return min(wait, MAX_WAIT)


def read_answer(status: int, body: bytes, key: str) -> str:
    """The answer's ``key`` (``id`` of an upload, a message's ``wamid``), or the
    ProviderError that says why there is none, in the provider's own words."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        document = None
    if 200 <= status < 300 and isinstance(document, dict):
        value = _find(document, key)
        if value:
            return value
        raise ProviderError(status, "bad_answer", f"the provider answered {status} without {key}")
    error = document.get("error") if isinstance(document, dict) else None
    said = error.get("message") if isinstance(error, dict) else None
    said = said or (body[:200].decode("utf-8", "replace") if body else "no body")
    code = "rate_limited" if status == 429 else "refused" if 400 <= status < 500 else "failed"
    detail = f" (code {error['code']})" if isinstance(error, dict) and "code" in error else ""
    raise ProviderError(status, code, f"the provider answered {status}{detail}: {said}")


def _find(document: dict[str, Any], key: str) -> str | None:
    """``id`` at the top of an upload's answer; a message's ID at messages[0].id."""
    if key == "wamid":
        messages = document.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            value = messages[0].get("id")
            return value if isinstance(value, str) else None
        return None
    value = document.get(key)
    if isinstance(value, bool):  # a delete's {"success": true}
        return "true" if value else None
    return value if isinstance(value, str) else None
