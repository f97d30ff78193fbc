"""The console's folder and file pages and its writes over a real socket: the
verdict badges with their problems in words, folders, a file's headers, Meta's
reading, links (plain, versioned, signed for each expiry) and the message body;
uploads through the console answered as the API answers them (refused,
converted, stored), each write refused without its CSRF token and changing
nothing; delete; Meta's fetches counted from the access log; a stored HTML or
SVG file never embedded in a console page."""

from __future__ import annotations

import json
import re
import signal
import time
from html import unescape
from urllib.parse import urlsplit

import pytest

from origin.serve.links import verify
from tests.helpers import media as fx
from tests.helpers.console import browser, signed_in
from tests.helpers.servers import start_server, write_config

TOKEN = "console-files-token"
KEY = "k" * 40
CONFIG = """
[api]
token_env = "CONSOLE_FILES_TOKEN"
signing_key_env = "CONSOLE_FILES_KEY"

[log]
access = "json"

[console]
enabled = true

[policy."/private"]
signed = true

[policy."/convert"]
convert = true
"""
META_AGENT = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("console-files")
    root = folder / "media"
    for sub in ("campaigns/may", "private", "convert"):
        (root / sub).mkdir(parents=True)
    fx.image(root / "campaigns/promo.jpg")
    fx.image(root / "private/secret.jpg")
    (root / "campaigns/page.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    (root / "campaigns/page.html").write_text("<html><script>alert(1)</script></html>")
    env = {"CONSOLE_FILES_TOKEN": TOKEN, "CONSOLE_FILES_KEY": KEY}
    with start_server(write_config(folder, CONFIG), root, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def session(origin):
    return signed_in(origin, TOKEN)


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    return unescape(found.group(1))


def test_the_folder_shows_its_folders_and_each_files_verdict_in_words(session):
    client, _ = session
    page = client.get("/_console/browse/campaigns").text
    assert '<a href="/_console/browse/campaigns/may/">may/</a>' in page
    promo = page[page.index(">promo.jpg<") :].split("</tr>")[0]
    assert '<span class="badge ok">ok</span>' in promo
    svg = page[page.index(">page.svg<") :].split("</tr>")[0]
    assert '<span class="badge reject">reject</span>' in svg and "active content" in svg
    assert 'for="upload-input">Upload files</label>' in page


def test_a_files_page_shows_the_headers_meta_reads_and_the_links(session, origin):
    client, _ = session
    page = client.get("/_console/file/campaigns/promo.jpg").text
    served = client.get("/campaigns/promo.jpg")
    for name in ("cache-control", "etag", "last-modified", "content-type"):
        assert f'<th scope="row">{name}</th><td><code>{served.headers[name]}' in unescape(page)
    assert "cached for 86400 s (max-age)" in page  # the explain reading
    assert text_of(page, "link").endswith("/campaigns/promo.jpg")
    assert text_of(page, "versioned-link").endswith(
        "/campaigns/promo.jpg?v=" + served.headers["etag"][1:13]
    )
    body = json.loads(text_of(page, "message-json"))
    assert body["type"] == "image" and body["image"]["link"] == text_of(page, "versioned-link")
    assert '<img src="/campaigns/promo.jpg" alt="promo.jpg">' in page
    for label in ("Copy link", "Copy versioned link", "Copy message JSON"):
        assert f">{label}</button>" in page
    assert "Copy signed link" not in page  # not a signed folder
    assert "10 minutes" in page and ">Replace</button>" in page and ">Delete</button>" in page


def test_a_signed_folders_file_offers_a_signed_link_for_each_expiry(session, origin):
    client, _ = session
    page = client.get("/_console/file/private/secret.jpg").text
    options = [unescape(link) for link in re.findall(r'<option value="([^"]+)">', page)]
    assert len(options) == 4 and ">Copy signed link</button>" in page
    expiries = []
    for link in options:
        path, query = urlsplit(link).path, urlsplit(link).query
        assert verify(KEY.encode(), path, query, now=0) is None
        expiries.append(int(re.search(r"expires=(\d+)", query).group(1)))
    assert expiries == sorted(expiries) and expiries[-1] - expiries[0] == 2_592_000 - 3600
    preview = unescape(re.search(r'<img src="([^"]+)"', page).group(1))
    assert client.get(preview).status_code == 200  # the preview's own link works here


def test_an_upload_through_the_console_needs_the_csrf_token_and_answers_as_the_api(session, origin):
    client, csrf = session
    photo = fx.encoded()
    refused = client.put("/_console/files/campaigns/new.jpg", content=photo)
    assert refused.status_code == 403 and not (origin.root / "campaigns/new.jpg").exists()
    stored = client.put(
        "/_console/files/campaigns/new.jpg", content=photo, headers={"X-CSRF-Token": csrf}
    )
    assert stored.status_code == 201, stored.text
    assert stored.json()["path"] == "/campaigns/new.jpg"
    assert (origin.root / "campaigns/new.jpg").read_bytes() == photo
    assert stored.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in stored.headers["content-security-policy"]
    page = client.get("/_console/browse/campaigns").text
    assert '<a href="/_console/file/campaigns/new.jpg">new.jpg</a>' in page  # listed at once


def test_a_refused_upload_says_why_and_converting_it_stores_what_whatsapp_takes(session, origin):
    client, csrf = session
    headers = {"X-CSRF-Token": csrf}
    bmp = fx.encoded(fmt="BMP")
    refused = client.put("/_console/files/campaigns/scan.bmp", content=bmp, headers=headers)
    assert refused.status_code == 415 and refused.json()["message"]
    assert not (origin.root / "campaigns/scan.bmp").exists()
    converted = client.put(
        "/_console/files/campaigns/scan.bmp?convert=true", content=bmp, headers=headers
    )
    assert converted.status_code in (201, 202), converted.text
    if converted.status_code == 202:  # a slow machine: the job, through the console
        job = converted.json()["job"].replace("/_jobs/", "/_console/jobs/")
        for _ in range(120):
            state = client.get(job).json()
            if state["state"] in ("done", "failed"):
                break
        assert state["state"] == "done", state
    assert (origin.root / "campaigns/scan.jpg").exists()


def test_delete_needs_the_csrf_token_and_goes_back_to_the_folder(session, origin):
    client, csrf = session
    fx.image(origin.root / "campaigns/old.jpg")
    refused = client.post("/_console/delete/campaigns/old.jpg", data={})
    assert refused.status_code == 403 and (origin.root / "campaigns/old.jpg").exists()
    deleted = client.post("/_console/delete/campaigns/old.jpg", data={"csrf": csrf})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/_console/browse/campaigns/"
    assert not (origin.root / "campaigns/old.jpg").exists()
    again = client.post("/_console/delete/campaigns/old.jpg", data={"csrf": csrf})
    assert again.status_code == 404


def test_a_media_id_without_a_bridge_is_a_clear_refusal(session):
    client, csrf = session
    page = client.get("/_console/file/campaigns/promo.jpg").text
    assert "Media IDs need the WhatsApp bridge" in page
    answer = client.post("/_console/media-id/campaigns/promo.jpg", data={"csrf": csrf})
    assert answer.status_code == 503 and "[whatsapp]" in answer.text


def test_metas_fetches_are_counted_on_the_files_page(session, origin):
    client, _ = session
    for _ in range(3):
        assert browser(origin).get("/campaigns/promo.jpg", headers={"User-Agent": META_AGENT})
    page = client.get("/_console/file/campaigns/promo.jpg").text
    assert "Meta fetched it <strong>3</strong> times" in page
    assert "(HTTP 200)" in page


@pytest.mark.parametrize("name", ["page.svg", "page.html"])
def test_a_stored_script_file_is_never_embedded_in_a_console_page(session, name):
    client, _ = session
    page = client.get(f"/_console/file/campaigns/{name}").text
    assert not re.search(rf"<(img|iframe|object|embed|video|audio)[^>]+{re.escape(name)}", page)
    assert '<span class="badge reject">reject</span>' in page
    served = client.get(f"/campaigns/{name}")
    assert served.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize(
    "path",
    [
        "/_console/file/campaigns/promo.jpg",
        "/_console/file/campaigns/page.svg",
        "/_console/file/campaigns/nothing.jpg",
        "/_console/browse/campaigns/may/",
        "/_console/jobs/AAAAAAAAAAAAAAAA",
        "/_console/static/uploads.js",
    ],
)
def test_every_page_and_answer_carries_the_consoles_headers(session, path):
    client, _ = session
    answer = client.get(path)
    assert answer.status_code in (200, 404), (path, answer.status_code)
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers.get_list("cache-control") == ["no-store"]


def test_console_writes_without_a_session_are_refused(origin):
    client = browser(origin)
    assert client.put("/_console/files/campaigns/x.jpg", content=b"x").status_code == 403
    assert client.post("/_console/delete/campaigns/promo.jpg", data={}).status_code == 403
    assert client.get("/_console/jobs/AAAAAAAAAAAAAAAA").status_code == 303
    assert (origin.root / "campaigns/promo.jpg").exists()


def test_a_reload_reaches_the_console(tmp_path):
    """SIGHUP applies new folder policies to the console as to serving: the folder
    page names the new Cache-Control (it kept the start-up config before)."""
    root = tmp_path / "media"
    (root / "campaigns").mkdir(parents=True)
    fx.image(root / "campaigns/promo.jpg")
    body = '[api]\ntoken_env = "CONSOLE_FILES_TOKEN"\n\n[console]\nenabled = true\n\n'
    policy = '[policy."/campaigns"]\ncache_control = "max-age={}"\n'
    config = write_config(tmp_path, body + policy.format(60))
    with start_server(config, root, env={"CONSOLE_FILES_TOKEN": TOKEN}) as origin:
        client, _ = signed_in(origin, TOKEN)
        assert "Cache-Control: max-age=60<" in client.get("/_console/browse/campaigns").text
        config.write_text(config.read_text().replace("max-age=60", "max-age=120"))
        origin.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload:" not in origin.stderr() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/campaigns/promo.jpg").headers["cache-control"] == "max-age=120"
        assert "Cache-Control: max-age=120<" in client.get("/_console/browse/campaigns").text
