"""The console's pages: sign-in and sign-out, a folder, a file, and the
console's own static files; its writes (upload, replace, delete, a media ID)
go to the same code the API runs for a token holder. Every answer carries
``CONSOLE_HEADERS``; every page but sign-in needs a live session (a GET
without one is sent to sign-in, anything else is a 403), and every
state-changing request carries its CSRF token (403 and nothing changed
without it): in the form's ``csrf`` field, or the ``X-CSRF-Token`` header of
an upload, whose body is the file. The session logic is in ``sessions.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send

from origin.cloudapi.bridge import Bridge
from origin.config import Config
from origin.console.actions import Actions
from origin.console.browse import Folders, columns, folder_link
from origin.console.file_page import file_view
from origin.console.forms import read_form
from origin.console.headers import CONSOLE_HEADERS
from origin.console.listing import query_for, view_from
from origin.console.sessions import (
    Session,
    csrf_valid,
)
from origin.console.signing import SIGN_IN, Signing
from origin.console.verdicts import Verdicts
from origin.convert.jobs import Job
from origin.serve.paths import CONSOLE, storage_path
from origin.serve.representations import Representations
from origin.whatsapp.problems import format_size
from storage.base import Storage

HERE = Path(__file__).parent
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
POSTED = ("delete/", "media-id/")  # forms; an upload is a PUT to files/<path>


@dataclass
class Services:
    """What the console asks of the rest of the app."""

    write: Callable[[str, Scope, Receive, Send], Awaitable[None]]  # a token holder's write
    representations: Representations
    bridge: Bridge
    load_job: Callable[[str], Awaitable[Job | None]]
    meta_fetches: Callable | None  # path -> PathFetches | None; None: requests not observed


class Console:
    def __init__(self, config: Config, storage: Storage, services: Services) -> None:
        self.config, self.storage, self.services = config, storage, services
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.static = {
            path.name: (path.read_bytes(), STATIC_TYPES[path.suffix])
            for path in sorted((HERE / "static").iterdir())
            if path.suffix in STATIC_TYPES
        }
        self.signing = Signing(config, storage, self.page)
        self.verdicts = Verdicts(storage)
        self.folders = Folders(storage, self.verdicts)
        self.actions = Actions(services, self.folders)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                kept = [pair for pair in message.get("headers", ()) if pair[0] not in HEADER_NAMES]
                message = {**message, "headers": [*kept, *HEADER_PAIRS]}
            await send(message)

        request = Request(scope, receive)
        response = await self.answer(request, send_with_headers)
        if response is not None:
            await response(scope, receive, send_with_headers)

    async def answer(self, request: Request, send: Send) -> Response | None:
        """The page or action asked for; None when an action has sent its own answer."""
        method, path = request.method, request.scope["path"]
        if path == CONSOLE[:-1]:
            return RedirectResponse(CONSOLE, 308)
        page = path[len(CONSOLE) :]
        if page.startswith("static/") and method in ("GET", "HEAD"):
            return self.static_file(page[len("static/") :])
        if page == "sign-in":
            signing = self.signing
            return await (signing.sign_in(request) if method == "POST" else signing.page(request))
        session = await self.signing.session(request)
        if session is None:
            if method in ("GET", "HEAD"):
                return RedirectResponse(SIGN_IN, 303)
            return PlainTextResponse("Forbidden: sign in first", 403)
        if method in ("GET", "HEAD"):
            return await self.read(request, session, page, send)
        if page.startswith("files/") and method == "PUT":  # the body is the file
            if not csrf_valid(session.csrf, request.headers.get("x-csrf-token")):
                return _csrf_refused()
            await self.actions.upload(request.scope, request.receive, send, "/" + page[6:])
            return None
        form = await read_form(request)
        if form is None or not csrf_valid(session.csrf, form.get("csrf")):
            return _csrf_refused()
        if method != "POST":
            return PlainTextResponse("Method Not Allowed", 405)
        if page == "sign-out":
            return await self.signing.sign_out(request)
        if page.startswith(POSTED):
            return await self.actions.post(request.scope, page, form)
        return PlainTextResponse("Not Found", 404)

    async def read(self, request: Request, session: Session, page: str, send: Send):
        if page == "" or page.startswith("browse/"):
            return await self.browse(request, session, "/" + page[len("browse/") :].strip("/"))
        if page.startswith("file/"):
            return await self.file(request, session, "/" + page[len("file/") :])
        if page.startswith("jobs/"):
            await self.actions.job(request.scope, request.receive, send, page[len("jobs/") :])
            return None
        return self.missing(request, session, "No such console page.")

    def page(self, request: Request, name: str, context: dict, status: int = 200) -> Response:
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def missing(self, request: Request, session: Session, problem: str) -> Response:
        return self.page(request, "not_found.html", {"problem": problem, "csrf": session.csrf}, 404)

    def static_file(self, name: str) -> Response:
        """Only the files the console ships, by exact name: nothing else is reachable."""
        found = self.static.get(name)
        if found is None:
            return PlainTextResponse("Not Found", 404)
        return Response(found[0], media_type=found[1])

    async def browse(self, request: Request, session: Session, folder: str) -> Response:
        prefix = folder.strip("/")
        if prefix and storage_path("/" + prefix) is None:
            return self.missing(request, session, f"{folder} is not a folder that can hold files.")
        view = view_from(dict(request.query_params))
        policy = self.config.policies.for_path(folder.rstrip("/") + "/")
        shown = await self.folders.page(prefix, view, policy)
        number, pages = shown.shown.number, shown.shown.pages
        context = {
            "folder": shown,
            "parents": _parents(prefix),
            "columns": columns(view),
            "previous": query_for(view, page=number - 1) if number > 1 else None,
            "next": query_for(view, page=number + 1) if number < pages else None,
            "upload_to": "/" + prefix + "/" if prefix else "/",
            "csrf": session.csrf,
        }
        return self.page(request, "browse.html", context)

    async def file(self, request: Request, session: Session, url_path: str) -> Response:
        path = storage_path(url_path)
        services = self.services
        view = None
        if path is not None:
            view = await file_view(
                self.config,
                self.storage,
                services.representations,
                services.bridge,
                url_path,
                path,
                self.verdicts.of,
                services.meta_fetches,
            )
        if view is None:
            return self.missing(request, session, f"No file is stored at {url_path}.")
        context = {
            "file": view,
            "size": format_size(view.stat.size),
            "parents": _parents(url_path.rsplit("/", 1)[0].strip("/")),
            "csrf": session.csrf,
        }
        return self.page(request, "file.html", context)


HEADER_PAIRS = tuple((name.encode(), value.encode()) for name, value in CONSOLE_HEADERS.items())
HEADER_NAMES = frozenset(name for name, _ in HEADER_PAIRS)  # an API answer's own give way


def _csrf_refused() -> Response:
    return PlainTextResponse("Forbidden: this request has no valid CSRF token", 403)


def _parents(prefix: str) -> list[tuple[str, str]]:
    """The breadcrumb: (name, link) from the root to ``prefix``."""
    crumbs = [("/", folder_link(""))]
    parts = [part for part in prefix.split("/") if part]
    for number, part in enumerate(parts, 1):
        crumbs.append((part, folder_link("/".join(parts[:number]))))
    return crumbs
