"""The bytes of the API's answers: JSON, never cached, and the bodiless 204."""

from __future__ import annotations

import json

from starlette.types import Send


async def send_json(send: Send, status: int, body: object, close: bool = False) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode() + b"\n"
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def send_not_found(send: Send, path: str, message: str) -> None:
    """A 404 for the token holder: no problems to list, only what to do instead."""
    await send_json(send, 404, {"error": "not_found", "message": message, "path": path})


async def send_no_content(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [(b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": b""})
