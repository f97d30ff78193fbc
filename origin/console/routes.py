"""The console's pages: sign-in and sign-out, the folder being browsed, and the
console's own static files. Every answer carries ``CONSOLE_HEADERS``; every
page but sign-in needs a live session (a GET without one is sent to sign-in,
anything else is a 403), and every state-changing request carries its CSRF
token (403 and nothing changed without it). The session logic itself is in
``sessions.py``; this reads requests and storage around it.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send

from origin.config import Config
from origin.console.headers import CONSOLE_HEADERS
from origin.console.listing import SORTS, Entry, View, page_of, query_for, view_from
from origin.console.sessions import (
    COOKIE,
    SIGN_IN_COOKIE,
    Session,
    cleared_cookie,
    cookie_named,
    csrf_valid,
    from_record,
    new_session,
    record_name,
    set_cookie,
    to_record,
)
from origin.serve.paths import CONSOLE, storage_path
from origin.whatsapp.media_types import content_type_for
from origin.whatsapp.problems import format_size
from storage.base import Storage

HERE = Path(__file__).parent
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
MAX_FORM_BYTES = 8192  # a sign-in or sign-out form is a few hundred bytes
SIGN_IN = CONSOLE + "sign-in"


class Console:
    def __init__(self, config: Config, storage: Storage) -> None:
        self.config, self.storage = config, storage
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.static = {
            path.name: (path.read_bytes(), STATIC_TYPES[path.suffix])
            for path in sorted((HERE / "static").iterdir())
            if path.suffix in STATIC_TYPES
        }
        self.secure = config.server.base_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.answer(request)
        response.headers.update(CONSOLE_HEADERS)
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Response:
        method, path = request.method, request.scope["path"]
        if path == CONSOLE[:-1]:
            return RedirectResponse(CONSOLE, 308)
        page = path[len(CONSOLE) :]
        if page.startswith("static/") and method in ("GET", "HEAD"):
            return self.static_file(page[len("static/") :])
        if page == "sign-in":
            return await (self.sign_in(request) if method == "POST" else self.sign_in_page(request))
        session = await self.session(request)
        if session is None:
            if method in ("GET", "HEAD"):
                return RedirectResponse(SIGN_IN, 303)
            return PlainTextResponse("Forbidden: sign in first", 403)
        if method not in ("GET", "HEAD"):
            form = await _form(request)
            if form is None or not csrf_valid(session.csrf, form.get("csrf")):
                return PlainTextResponse("Forbidden: this request has no valid CSRF token", 403)
            if page == "sign-out" and method == "POST":
                return await self.sign_out(request)
            return PlainTextResponse("Method Not Allowed", 405)
        if page == "" or page.startswith("browse/"):
            return await self.browse(request, session, "/" + page[len("browse/") :].strip("/"))
        return self.page(request, "not_found.html", {"problem": "No such console page."}, 404)

    def page(self, request: Request, name: str, context: dict, status: int = 200) -> Response:
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def static_file(self, name: str) -> Response:
        """Only the files the console ships, by exact name: nothing else is reachable."""
        found = self.static.get(name)
        if found is None:
            return PlainTextResponse("Not Found", 404)
        return Response(found[0], media_type=found[1])

    async def session(self, request: Request) -> Session | None:
        identifier = cookie_named(request.headers.get("cookie"), COOKIE)
        if identifier is None:
            return None
        data = await self.storage.records.read(record_name(identifier))
        session = from_record(data) if data is not None else None
        if session is None or not session.live(time.time()):
            return None
        return session

    async def sign_in_page(self, request: Request, problem: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        context = {"sign_in_csrf": token, "problem": problem, "csrf": None}
        response = self.page(request, "sign_in.html", context, 401 if problem else 200)
        response.headers.append("set-cookie", set_cookie(SIGN_IN_COOKIE, token, self.secure, 3600))
        return response

    async def sign_in(self, request: Request) -> Response:
        """A fresh session for the right token: a new identifier whatever cookie
        came along, so one planted before sign-in is never promoted."""
        form = await _form(request)
        expected = cookie_named(request.headers.get("cookie"), SIGN_IN_COOKIE)
        if form is None or not csrf_valid(expected, form.get("csrf")):
            return PlainTextResponse("Forbidden: the sign-in form has expired; reload it", 403)
        token = self.config.api.token
        if token is None:
            missing = f"the server has no API token: set ${self.config.api.token_env} and restart"
            return await self.sign_in_page(request, missing)
        if not hmac.compare_digest(form.get("token", "").encode(), token.encode()):
            return await self.sign_in_page(request, "That is not the API token.")
        identifier = secrets.token_urlsafe(32)
        hours = self.config.console.session_hours
        name, session = new_session(identifier, secrets.token_urlsafe(32), time.time(), hours)
        await self.storage.records.write(name, to_record(session))
        response = RedirectResponse(CONSOLE, 303)
        response.headers.append(
            "set-cookie", set_cookie(COOKIE, identifier, self.secure, int(hours * 3600))
        )
        response.headers.append("set-cookie", cleared_cookie(SIGN_IN_COOKIE, self.secure))
        return response

    async def sign_out(self, request: Request) -> Response:
        """The session ends on the server: its cookie no longer works anywhere."""
        identifier = cookie_named(request.headers.get("cookie"), COOKIE)
        if identifier is not None:
            await self.storage.records.delete(record_name(identifier))
        response = RedirectResponse(SIGN_IN, 303)
        response.headers.append("set-cookie", cleared_cookie(COOKIE, self.secure))
        return response

    async def browse(self, request: Request, session: Session, folder: str) -> Response:
        prefix = folder.strip("/")
        if prefix and storage_path("/" + prefix) is None:
            problem = f"{folder} is not a folder that can hold files."
            context = {"problem": problem, "csrf": session.csrf}
            return self.page(request, "not_found.html", context, 404)
        entries = [
            Entry(name, stat.size, type_of(name), stat.mtime)
            for name, stat in await self.storage.list(prefix)
        ]
        view = view_from(dict(request.query_params))
        shown = page_of(entries, view)
        policy = self.config.policies.for_path(folder).cache_control or "(no Cache-Control)"
        context = {
            "folder": folder,
            "files": _rows(prefix, shown.entries),
            "shown": shown,
            "columns": _columns(view),
            "previous": query_for(view, page=shown.number - 1) if shown.number > 1 else None,
            "next": query_for(view, page=shown.number + 1) if shown.number < shown.pages else None,
            "policy": policy,
            "csrf": session.csrf,
        }
        return self.page(request, "browse.html", context)


def _suffixes(name: str) -> str:
    """What a name's type is read from: its last two suffixes (``.tar.gz``)."""
    parts = name.lower().rsplit(".", 2)
    return "." + ".".join(parts[1:]) if len(parts) > 1 else ""


def type_of(name: str) -> str:
    """``content_type_for(name)``, asked once per suffix rather than per name (a
    folder of 10,000 photos asks once). A name that starts with a dot is asked
    as it is: its leading dot may or may not be a suffix (``.jpg``, ``.c``)."""
    return content_type_for(name) if name.startswith(".") else _type_of(_suffixes(name))


@functools.lru_cache(maxsize=4096)
def _type_of(suffixes: str) -> str:
    """A type per suffix, not per name: a folder of 10,000 photos asks once."""
    return content_type_for("file" + suffixes)


def _rows(prefix: str, entries: tuple[Entry, ...]) -> list[dict[str, str]]:
    return [
        {
            "name": entry.name,
            "link": quote(f"/{prefix}/{entry.name}" if prefix else f"/{entry.name}"),
            "size": format_size(entry.size),
            "content_type": entry.content_type,
            "modified": datetime.fromtimestamp(entry.modified, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for entry in entries
    ]


def _columns(view: View) -> list[dict[str, str]]:
    """Each column's sort link, and how it sorts now (for aria-sort)."""
    order = "descending" if view.descending else "ascending"
    return [
        {
            "name": name,
            "query": query_for(view, sort=name, order=_toggled(view, name), page=1),
            "sorted": order if view.sort == name else "none",
        }
        for name in SORTS
    ]


def _toggled(view: View, column: str) -> str:
    """A column's link sorts by it ascending, or flips it when it is the sort already."""
    return "asc" if view.sort != column or view.descending else "desc"


async def _form(request: Request) -> dict[str, str] | None:
    """An urlencoded form of at most MAX_FORM_BYTES, last value of each field;
    None for anything else (too long, another encoding)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}
