"""Signing in to the console as a browser would, with httpx: the sign-in form's
CSRF token, the session cookie, and the session's CSRF token from a page."""

from __future__ import annotations

import re

import httpx

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def browser(origin) -> httpx.Client:
    """A client that keeps cookies and does not follow redirects, as a test reads them."""
    return httpx.Client(base_url=origin.url, timeout=30, follow_redirects=False)


def sign_in_form(client: httpx.Client) -> str:
    page = client.get("/_console/sign-in")
    assert page.status_code == 200
    return CSRF_FIELD.search(page.text).group(1)


def signed_in(origin, token: str) -> tuple[httpx.Client, str]:
    """(a client with a live session, the session's CSRF token)."""
    client = browser(origin)
    answer = client.post("/_console/sign-in", data={"csrf": sign_in_form(client), "token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/_console/"
    page = client.get("/_console/")
    assert page.status_code == 200
    return client, CSRF_FIELD.search(page.text).group(1)
