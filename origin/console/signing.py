"""Signing in and out of the console: a fresh session for the right API token
(never one planted before sign-in), its record in the storage so that every
instance knows it and sign-out ends it everywhere, and the sign-in form's own
double-submit CSRF token (there is no session yet to carry one)."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from origin.config import Config
from origin.console.forms import read_form
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
from origin.serve.paths import CONSOLE
from storage.base import Storage

SIGN_IN = CONSOLE + "sign-in"


class Signing:
    def __init__(self, config: Config, storage: Storage, render: Callable[..., Response]) -> None:
        self.config, self.storage, self.render = config, storage, render
        self.secure = config.server.base_url.startswith("https://")

    async def session(self, request: Request) -> Session | None:
        identifier = cookie_named(request.headers.get("cookie"), COOKIE)
        if identifier is None:
            return None
        data = await self.storage.records.read(record_name(identifier))
        session = from_record(data) if data is not None else None
        if session is None or not session.live(time.time()):
            return None
        return session

    async def page(self, request: Request, problem: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        context = {"sign_in_csrf": token, "problem": problem, "csrf": None}
        response = self.render(request, "sign_in.html", context, 401 if problem else 200)
        response.headers.append("set-cookie", set_cookie(SIGN_IN_COOKIE, token, self.secure, 3600))
        return response

    async def sign_in(self, request: Request) -> Response:
        """A fresh session for the right token: a new identifier whatever cookie
        came along, so one planted before sign-in is never promoted."""
        form = await read_form(request)
        expected = cookie_named(request.headers.get("cookie"), SIGN_IN_COOKIE)
        if form is None or not csrf_valid(expected, form.get("csrf")):
            return PlainTextResponse("Forbidden: the sign-in form has expired; reload it", 403)
        token = self.config.api.token
        if token is None:
            missing = f"the server has no API token: set ${self.config.api.token_env} and restart"
            return await self.page(request, missing)
        if not hmac.compare_digest(form.get("token", "").encode(), token.encode()):
            return await self.page(request, "That is not the API token.")
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
