"""The API's answers, sent by the one sender: JSON, never cached, and the bodiless 204."""

from __future__ import annotations

from starlette.types import Send

from origin.serve.responses import NO_CONTENT, json_response
from origin.serve.sender import send_response


async def send_json(send: Send, status: int, body: object, close: bool = False) -> None:
    await send_response(send, json_response(status, body, close))


async def send_not_found(send: Send, path: str, message: str) -> None:
    """A 404 for the token holder: no problems to list, only what to do instead."""
    await send_json(send, 404, {"error": "not_found", "message": message, "path": path})


async def send_no_content(send: Send) -> None:
    await send_response(send, NO_CONTENT)
