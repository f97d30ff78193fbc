"""``/_whatsapp/``: the media-ID bridge over HTTP, for the API token holder.

- ``POST /_whatsapp/media?path=/campaigns/promo.jpg[&number=…]``: a valid ID for
  the file's current bytes, uploading them when there is none (201) or reusing
  the recorded one (200).
- ``GET /_whatsapp/media/<path>[?number=…]``: what to put in a message now,
  from the records alone (``id`` null and the link when there is no valid ID).

Every answer is JSON, errors included, with the upload API's shape.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote

from starlette.types import Receive, Scope, Send

from origin.cloudapi.bridge import Bridge
from origin.serve.responses import json_response
from origin.serve.sender import send_response
from origin.upload.refusal import Refused

PREFIX = "/_whatsapp/"
MEDIA = "/_whatsapp/media"


def _query(scope: Scope) -> dict[str, str]:
    parsed = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


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
            answer = await bridge.current(unquote(path[len(MEDIA) :]), query.get("number"))
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
