"""A WhatsApp Cloud API provider on 127.0.0.1, speaking the documented contract
of Meta's Graph API or of 360dialog: upload (multipart ``file``, ``type``,
``messaging_product``), retrieve, delete and send, each behind its own auth
(a bearer token and the number in the path; a ``D360-API-KEY`` and no number).
Neither service can be reached from here, so the product is pointed at this one
with ``[whatsapp] base_url``; nothing inside the product is replaced.

A test scripts trouble by queueing answers (``fail_next(429, 429)``, a 400, a
pause longer than the client waits) and reads every request the server got,
parsed, in ``calls``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    file_type: str | None = None
    file_sha256: str | None = None
    body: dict | None = None
    at: float = 0.0  # time.monotonic() when it came


@dataclass
class Scripted:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeProvider:
    """``with FakeProvider("meta", tokens={"111": "t"}) as fake: fake.base_url``."""

    def __init__(
        self, provider: str = "meta", tokens: dict[str, str] | None = None, version: str = "v23.0"
    ) -> None:
        self.provider, self.version = provider, version
        self.tokens = tokens or {"1234567890": "test-token"}  # number -> token (or key)
        self.calls: list[Received] = []
        self.media: dict[str, Received] = {}  # id -> its upload
        self.deleted: list[str] = []
        self.sent: list[dict] = []
        self._script: list[Scripted] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeProvider:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, *statuses: int, delay: float = 0.0, retry_after: str | None = None) -> None:
        """The next requests answer these statuses, in order, with Graph's error body."""
        for status in statuses:
            headers = {"Retry-After": retry_after} if retry_after else {}
            body = {
                "error": {
                    "message": f"scripted {status}",
                    "type": "OAuthException",
                    "code": 4 if status == 429 else 100,
                    "fbtrace_id": "Afake",
                }
            }
            self._script.append(Scripted(status, body, headers, delay))

    def pause_next(self, seconds: float) -> None:
        """The next request is answered normally, after ``seconds``."""
        self._script.append(Scripted(0, {}, {}, seconds))

    def uploads(self) -> list[Received]:
        return [
            call for call in self.calls if call.method == "POST" and call.path.endswith("/media")
        ]

    # the contract

    def _number_for(self, request: Received, number_in_path: str | None) -> str | None:
        if self.provider == "meta":
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if number_in_path is None:  # GET or DELETE /{media-id}: any of the app's tokens
                return next((n for n, value in self.tokens.items() if value == token), None)
            return number_in_path if self.tokens.get(number_in_path) == token else None
        key = request.headers.get("d360-api-key", "")
        return next((number for number, value in self.tokens.items() if value == key), None)

    def _answer(self, request: Received) -> tuple[int, dict]:
        parts = [part for part in request.path.split("?")[0].split("/") if part]
        if self.provider == "meta":
            if not parts or parts[0] != self.version:
                return 400, _error(f"unknown version {parts[:1]}", 100)
            parts = parts[1:]
        number_in_path = parts[0] if self.provider == "meta" and len(parts) == 2 else None
        number = self._number_for(request, number_in_path)
        if number is None:
            return 401, _error("Invalid OAuth access token", 190)
        tail = parts[-1] if parts else ""
        if request.method == "POST" and tail == "media":
            if request.fields.get("messaging_product") != "whatsapp" or not request.file_sha256:
                return 400, _error("messaging_product and file are required", 100)
            if self.provider == "meta" and not request.fields.get("type"):
                return 400, _error("type is required", 100)
            media_id = str(10**15 + secrets.randbelow(10**15))
            self.media[media_id] = request
            return 200, {"id": media_id}
        if request.method == "POST" and tail == "messages":
            self.sent.append(request.body or {})
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [],
                "messages": [{"id": f"wamid.{secrets.token_hex(12)}"}],
            }
        if request.method in ("GET", "DELETE") and len(parts) == 1:
            if tail not in self.media:
                return 404, _error("Unsupported get request. Object does not exist", 100)
            if request.method == "DELETE":
                del self.media[tail]
                self.deleted.append(tail)
                return 200, {"success": True}
            upload = self.media[tail]
            return 200, {
                "messaging_product": "whatsapp",
                "id": tail,
                "sha256": upload.file_sha256,
                "mime_type": upload.fields.get("type"),
                "url": f"{self.base_url}/dl/{tail}",
            }
        return 404, _error("Unknown path components", 2500)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    at=time.monotonic(),
                )
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("multipart/form-data"):
                    _read_multipart(request, content_type, raw)
                elif raw:
                    try:
                        request.body = json.loads(raw)
                    except ValueError:
                        request.body = None
                with fake._lock:
                    fake.calls.append(request)
                    scripted = fake._script.pop(0) if fake._script else None
                if scripted is not None and scripted.delay:
                    time.sleep(scripted.delay)
                if scripted is not None and scripted.status:
                    status, body, headers = scripted.status, scripted.body, scripted.headers
                else:
                    with fake._lock:
                        status, body = fake._answer(request)
                    headers = {}
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: that is what a pause tests

            do_GET = do_POST = do_DELETE = _serve

        return Handler


def _read_multipart(request: Received, content_type: str, raw: bytes) -> None:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "file":
            request.file_name = part.get_filename()
            request.file_type = part.get_content_type()
            request.file_sha256 = hashlib.sha256(payload).hexdigest()
        elif name:
            request.fields[name] = payload.decode()


def _error(message: str, code: int) -> dict:
    return {
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Afake"}
    }
