"""The console's writes, done by the code the API runs for a token holder, so
that an upload from the console is checked, converted, refused and answered
exactly as ``PUT /path`` is (the same JSON, which the page's script reads):
the session stands in for the token. Delete and the media ID are forms that
come back to a page."""

from __future__ import annotations

import json
from urllib.parse import quote

from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from origin.console.browse import Folders, file_link, folder_link
from origin.console.file_page import first_number
from origin.serve.paths import storage_path
from origin.serve.sender import send_response
from origin.upload.jobs import job_answer
from origin.upload.refusal import Refused

MAX_ANSWER_BYTES = 64 * 1024


class Actions:
    def __init__(self, services, folders: Folders) -> None:
        self.services = services
        self.folders = folders

    async def upload(self, scope: Scope, receive: Receive, send: Send, url_path: str) -> None:
        """PUT /_console/files/<path>: the API's PUT of that path, query and all
        (``?convert=true``, ``?as=``), answered in its JSON."""
        await self.services.write("PUT", _as_path(scope, "PUT", url_path), receive, send)
        self.folders.changed(_prefix(url_path))

    async def post(self, scope: Scope, page: str, form: dict[str, str]) -> Response:
        action, _, rest = page.partition("/")
        url_path = "/" + rest
        if storage_path(url_path) is None:
            return PlainTextResponse(f"Not Found: {url_path} is not a stored file's path", 404)
        if action == "delete":
            return await self.delete(scope, url_path)
        return await self.media_id(url_path)

    async def delete(self, scope: Scope, url_path: str) -> Response:
        """The API's DELETE; back to the folder, which no longer lists the file."""
        status, body = await self._captured(_as_path(scope, "DELETE", url_path))
        self.folders.changed(_prefix(url_path))
        if status >= 400:
            return PlainTextResponse(f"The file was not deleted: {_reason(body)}", status)
        return RedirectResponse(folder_link(_prefix(url_path)), 303)

    async def media_id(self, url_path: str) -> Response:
        """Upload the file to the provider now (or reuse its valid ID); back to its page."""
        try:
            await self.services.bridge.ensure(url_path, first_number(self.services.bridge.whatsapp))
        except Refused as refused:
            return PlainTextResponse(f"No media ID: {refused.message}", refused.status)
        return RedirectResponse(file_link(url_path), 303)

    async def job(self, scope: Scope, receive: Receive, send: Send, identifier: str) -> None:
        """A conversion job's state, as ``GET /_jobs/<id>`` answers it."""
        job = await self.services.load_job(identifier)
        await send_response(send, job_answer("/_jobs/" + identifier, job), scope["method"], receive)

    async def _captured(self, scope: Scope) -> tuple[int, bytes]:
        """A write with no body, its answer kept rather than sent."""
        answer = {"status": 500, "body": b""}

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif len(answer["body"]) < MAX_ANSWER_BYTES:
                answer["body"] += message.get("body", b"")

        await self.services.write(scope["method"], scope, receive, send)
        return answer["status"], answer["body"]


def _as_path(scope: Scope, method: str, url_path: str) -> Scope:
    """The request as the API sees it: at the stored path, not the console's."""
    return {**scope, "method": method, "path": url_path, "raw_path": quote(url_path).encode()}


def _prefix(url_path: str) -> str:
    return url_path.rsplit("/", 1)[0].strip("/")


def _reason(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", "the storage refused"))
    except (ValueError, AttributeError):
        return "the storage refused"
