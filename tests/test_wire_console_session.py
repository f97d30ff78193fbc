"""The console's sign-in, session and page security over a real socket (no
browser: the headers, cookies and redirects a browser is given): CSP, framing
and caching headers on every page, the cookie's flags, CSRF on every
state-changing request, session fixation, sign-out ending the session on the
server, expiry, and no way out of the console's own files through its URLs."""

import time

import httpx
import pytest

from tests.helpers import media as fx
from tests.helpers.console import browser, sign_in_form
from tests.helpers.console import signed_in as signed_in_with
from tests.helpers.servers import start_server, write_config

TOKEN = "console-token-5521"
CONSOLE = """
[api]
token_env = "CONSOLE_TOKEN"

[console]
enabled = true
session_hours = {hours}
"""


def serve(folder, hours=12, base_url=None):
    root = folder / "media"
    (root / "campaigns").mkdir(parents=True, exist_ok=True)
    fx.image(root / "campaigns/promo.jpg")
    (root / "campaigns/page.html").write_text("<script>1</script>")
    server = f'[server]\nbase_url = "{base_url}"\n' if base_url else ""
    config = write_config(folder, server + CONSOLE.format(hours=hours))
    return start_server(config, root, env={"CONSOLE_TOKEN": TOKEN})


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("console")) as server:
        yield server


def signed_in(origin) -> tuple[httpx.Client, str]:
    return signed_in_with(origin, TOKEN)


def assert_console_headers(answer):
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"


def test_a_page_without_a_session_sends_to_sign_in(origin):
    for path in ("/_console/", "/_console/browse/campaigns"):
        answer = browser(origin).get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/_console/sign-in"
        assert_console_headers(answer)
    assert browser(origin).get("/_console").headers["location"] == "/_console/"


def test_every_console_answer_has_the_security_headers(origin):
    client, _ = signed_in(origin)
    for path in (
        "/_console/",
        "/_console/browse/campaigns",
        "/_console/sign-in",
        "/_console/static/console.css",
        "/_console/nope",
        "/_console/static/x.js",
    ):
        assert_console_headers(client.get(path))
    assert_console_headers(client.post("/_console/sign-out", data={}))


def test_the_sign_in_form_is_labelled_for_people(origin):
    page = browser(origin).get("/_console/sign-in").text
    assert '<label for="token">API token</label>' in page
    assert '<button type="submit">Sign in</button>' in page and "<script" not in page


def test_the_session_cookie_is_httponly_strict_and_scoped(origin):
    client = browser(origin)
    answer = client.post("/_console/sign-in", data={"csrf": sign_in_form(client), "token": TOKEN})
    [cookie] = [c for c in answer.headers.get_list("set-cookie") if c.startswith("mo_console=")]
    flags = [part.strip() for part in cookie.split(";")]
    assert "HttpOnly" in flags and "SameSite=Strict" in flags and "Path=/_console/" in flags
    assert "Max-Age=43200" in flags and "Secure" not in flags  # http://127.0.0.1: no TLS


def test_over_https_the_cookie_is_secure(tmp_path):
    with serve(tmp_path, base_url="https://media.example.com") as origin:
        client = browser(origin)
        answer = client.post(
            "/_console/sign-in", data={"csrf": sign_in_form(client), "token": TOKEN}
        )
        cookies = answer.headers.get_list("set-cookie")
        assert all("Secure" in cookie for cookie in cookies), cookies


def test_a_wrong_token_or_a_missing_csrf_signs_no_one_in(origin):
    client = browser(origin)
    wrong = client.post("/_console/sign-in", data={"csrf": sign_in_form(client), "token": "no"})
    assert wrong.status_code == 401 and "That is not the API token." in wrong.text
    assert not any(c.startswith("mo_console=") for c in wrong.headers.get_list("set-cookie"))
    forged = browser(origin).post("/_console/sign-in", data={"token": TOKEN})
    assert forged.status_code == 403
    assert not any(c.startswith("mo_console=") for c in forged.headers.get_list("set-cookie"))


def test_a_session_planted_before_sign_in_is_never_promoted(origin):
    client = browser(origin)
    planted = "A" * 43
    client.cookies.set("mo_console", planted, path="/_console/")
    answer = client.post("/_console/sign-in", data={"csrf": sign_in_form(client), "token": TOKEN})
    issued = answer.cookies.get("mo_console")
    assert issued and issued != planted
    attacker = browser(origin)
    attacker.cookies.set("mo_console", planted, path="/_console/")
    assert attacker.get("/_console/").status_code == 303


def test_sign_out_needs_its_csrf_token_then_ends_the_session_on_the_server(origin):
    client, csrf = signed_in(origin)
    stolen = client.cookies.get("mo_console")
    refused = client.post("/_console/sign-out", data={})
    assert refused.status_code == 403 and client.get("/_console/").status_code == 200
    wrong = client.post("/_console/sign-out", data={"csrf": csrf[:-1] + "x"})
    assert wrong.status_code == 403 and client.get("/_console/").status_code == 200
    out = client.post("/_console/sign-out", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/_console/sign-in"
    replay = browser(origin)
    replay.cookies.set("mo_console", stolen, path="/_console/")
    assert replay.get("/_console/").status_code == 303  # the old cookie no longer works


def test_a_session_ends_after_its_hours(tmp_path):
    with serve(tmp_path, hours=0.0005) as origin:  # 1.8 s
        client, _ = signed_in(origin)
        time.sleep(2.2)
        assert client.get("/_console/").status_code == 303


def test_browse_lists_the_files_as_links_named_by_their_names(origin):
    client, _ = signed_in(origin)
    page = client.get("/_console/browse/campaigns")
    assert page.status_code == 200
    assert '<a href="/_console/file/campaigns/promo.jpg">promo.jpg</a>' in page.text
    assert "max-age=86400" in page.text  # the folder's policy


@pytest.mark.parametrize(
    "path",
    [
        "/_console/browse/../../etc",
        "/_console/browse/%2e%2e/%2e%2e/etc",
        "/_console/browse/.media-origin",
        "/_console/static/../routes.py",
        "/_console/static/%2e%2e%2froutes.py",
        "/_console/static/templates/base.html",
    ],
)
def test_no_console_url_reaches_outside_what_it_shows(origin, path):
    client, _ = signed_in(origin)
    answer = client.get(path)
    assert answer.status_code in (404, 303), (path, answer.status_code)
    assert "import" not in answer.text and "{%" not in answer.text


def test_a_large_folder_is_paged_sorted_and_filtered(origin):
    folder = origin.root / "many"
    folder.mkdir(exist_ok=True)
    for number in range(250):
        (folder / f"f{number:04}.pdf").write_bytes(b"%PDF-1.4" + b" " * number)
    client, _ = signed_in(origin)
    first = client.get("/_console/browse/many").text
    assert first.count('<a href="/_console/file/many/f') == 100
    assert "Page 1 of 3 (250 files)" in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    last = client.get("/_console/browse/many", params={"page": "3"}).text
    assert last.count('<a href="/_console/file/many/f') == 50 and ">f0249.pdf<" in last
    largest = client.get("/_console/browse/many", params={"sort": "size", "order": "desc"}).text
    assert largest.index(">f0249.pdf<") < largest.index(">f0248.pdf<")
    assert 'aria-sort="descending"' in largest
    found = client.get("/_console/browse/many", params={"filter": "F012"}).text
    assert found.count('<a href="/_console/file/many/f') == 10 and "(10 files)" in found
    none = client.get("/_console/browse/many", params={"filter": "<script>"}).text
    assert "No file matches the filter." in none and "<script>" not in none  # escaped
