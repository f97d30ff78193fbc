"""``/_whatsapp/``: the media-ID bridge over HTTP, for the API token holder.

- ``POST /_whatsapp/media?path=/campaigns/promo.jpg[&number=…]``: a valid ID for
  the file's current bytes, uploading them when there is none (201) or reusing
  the recorded one (200).
- ``GET /_whatsapp/media/<path>[?number=…]``: what to put in a message now,
  from the records alone (``id`` null and the link when there is no valid ID).
- ``GET /_whatsapp/webhook``: Meta's verification challenge; ``POST``: status
  deliveries, checked for their signature and kept (the provider's, not the
  token holder's: no API token).

Every answer is JSON, errors included, with the upload API's shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import Receive, Scope, Send

from origin.cloudapi.bridge import Bridge
from origin.cloudapi.statuses import MAX_DELIVERY_BYTES, authentic, keep
from origin.cloudapi.webhooks import Status, verification
from origin.config import WhatsAppConfig
from origin.serve.responses import json_response, plain, text_response
from origin.serve.sender import send_response
from origin.upload.refusal import Refused
from origin.upload.request import query
from storage.records import Records

PREFIX = "/_whatsapp/"
MEDIA = "/_whatsapp/media"
WEBHOOK = "/_whatsapp/webhook"


def _query(scope: Scope) -> dict[str, str]:
    """The last value of each query parameter."""
    return {key: values[-1] for key, values in query(scope).items()}


async def handle_media(bridge: Bridge, scope: Scope, receive: Receive, send: Send) -> None:
    """The token was checked by the caller; this decides and answers."""
    method, path, query = scope["method"], scope["path"], _query(scope)
    try:
        if path == MEDIA and method == "POST":
            asked = query.get("path")
            if not asked or not asked.startswith("/"):
                raise Refused(
                    400, "bad_parameter", "?path= must name a stored file: ?path=/a/b.jpg"
                )
            answer = await bridge.ensure(asked, query.get("number"))
            status = 201 if answer.uploaded else 200
        elif path.startswith(MEDIA + "/") and method in ("GET", "HEAD"):
            # scope["path"] is decoded already: /a%2541.jpg asks for the file /a%41.jpg
            answer = await bridge.current(path[len(MEDIA) :], query.get("number"))
            status = 200
        else:
            raise Refused(
                405 if path == MEDIA or path.startswith(MEDIA + "/") else 404,
                "not_allowed" if path.startswith(MEDIA) else "not_found",
                "POST /_whatsapp/media?path=… uploads; GET /_whatsapp/media/<path> asks",
                path,
            )
    except Refused as refused:
        await send_response(send, json_response(refused.status, refused.body()), method, receive)
        return
    await send_response(send, json_response(status, answer.to_json()), method, receive)


async def handle_webhook(
    config: WhatsAppConfig,
    records: Records,
    count: Callable[[list[Status]], None] | None,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """``count`` is given the statuses newly kept (the app's metrics, when on)."""
    method = scope["method"]
    if method in ("GET", "HEAD"):
        status, text = verification(_query(scope), config.verify_token)
        response = text_response(status, text.encode()) if status == 200 else plain(status, text)
        await send_response(send, response, method, receive)
        return
    if method != "POST":
        await send_response(send, plain(405, "a webhook takes GET and POST"), method, receive)
        return
    body = await _read_body(receive)
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }
    if body is None:
        answer = json_response(413, {"error": "too_large", "message": "a delivery is at most 1 MB"})
    elif config.app_secret is None:
        answer = json_response(
            503,
            {
                "error": "webhook_not_configured",
                "message": (
                    f"set {config.app_secret_env} to the app secret that signs the deliveries"
                ),
            },
        )
    elif not authentic(config, body, headers):
        answer = json_response(
            401,
            {
                "error": "bad_signature",
                "message": ("the delivery's signature does not match its body: nothing was stored"),
            },
        )
    else:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        stored, repeated = await keep(records, payload)
        if count is not None:
            count(stored)
        answer = json_response(200, {"stored": len(stored), "repeated": repeated})
    await send_response(send, answer, method, receive)


async def _read_body(receive: Receive) -> bytes | None:
    """The raw body (the signature is over its bytes), or None past the cap."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_DELIVERY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
