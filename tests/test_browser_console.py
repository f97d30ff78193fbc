"""The console in a real browser: Chromium from the system's packages driven by
Playwright for Python (its own browser download is not used), against the real
server and a loopback WhatsApp provider. A person signs in by the labelled
field and button; uploads by the file input and by a drop, each with its own
progress bar and verdict; reads a refused file's reason and converts it;
copies each link, the media ID and the message JSON (read back from the
clipboard); plays a video's first second (its Range requests reach the
origin); replaces and deletes a file after the warning about Meta's cache;
signs out. A request without the CSRF token is refused, a page without a
session sends to sign-in, no page reports a CSP violation, and the pages fit a
phone's width. ``test_screenshots`` regenerates the pictures in docs/."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import media as fx
from tests.helpers.fake_provider import FakeProvider
from tests.helpers.servers import REPO, start_server, write_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api", reason="the test extras install it")
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="chromium not installed (.ci/run installs it)"
)
TOKEN = "browser-token-8812"
WA_TOKEN = "wa-browser-token-3141"
NUMBER = "1234567890"
DOCS = REPO / "docs"


def clip(path: Path, seconds: int = 2) -> None:
    """An H.264 baseline + AAC MP4 Chromium plays, moov first."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc=size=320x240:rate=25:duration={seconds}", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-profile:v", "baseline",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    root = folder / "media"
    (root / "campaigns/may").mkdir(parents=True)
    fx.image(root / "campaigns/promo.jpg")
    clip(root / "campaigns/clip.mp4")
    (root / "campaigns/page.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    with FakeProvider("meta", {NUMBER: WA_TOKEN}) as fake:
        config = write_config(
            folder,
            '[api]\ntoken_env = "BROWSER_TOKEN"\n\n[log]\naccess = "json"\n\n'
            "[console]\nenabled = true\n\n"
            f'[whatsapp]\nprovider = "meta"\nbase_url = "{fake.base_url}"\n'
            f'phone_number_id = "{NUMBER}"\ntimeout = 3\n',
        )
        env = {"BROWSER_TOKEN": TOKEN, "WHATSAPP_TOKEN": WA_TOKEN}
        with start_server(config, root, env=env) as server:
            yield server


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, origin):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.violations = []  # CSP violations the pages report
    page.on("console", lambda message: _note_violation(page, message.text))
    try:
        yield page
    finally:
        assert page.violations == []
        context.close()


def _note_violation(page, text: str) -> None:
    if "Content Security Policy" in text or "Refused to" in text:
        page.violations.append(text)


def sign_in(page, origin, where: str = "/_console/") -> None:
    page.goto(f"{origin.url}{where}")
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{origin.url}/_console/")
    if where != "/_console/":
        page.goto(f"{origin.url}{where}")


def wait_until(page, expression: str, seconds: float = 20.0) -> None:
    """Poll ``expression`` from here: Playwright's wait_for_function evaluates a
    string in the page, which the console's CSP (no eval) rightly refuses."""
    deadline = time.monotonic() + seconds
    while not _evaluated(page, expression):
        assert time.monotonic() < deadline, f"not within {seconds} s: {expression}"
        time.sleep(0.05)


def _evaluated(page, expression: str) -> object:
    """The expression's value; False while the page is navigating (no context yet)."""
    try:
        return page.evaluate(expression)
    except playwright.Error as error:
        if "context was destroyed" in str(error) or "navigat" in str(error):
            return False
        raise


def upload_row(page, path: str):
    return page.locator(".upload-item", has_text=path)


def test_sign_in_find_a_file_and_sign_out(origin, page):
    page.goto(f"{origin.url}/_console/browse/campaigns")
    assert page.url == f"{origin.url}/_console/sign-in"  # no session: sent to sign in
    page.get_by_label("API token").fill("not the token")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That is not the API token."
    sign_in(page, origin, "/_console/browse/campaigns")
    link = page.get_by_role("link", name="promo.jpg", exact=True)
    assert link.get_attribute("href") == "/_console/file/campaigns/promo.jpg"
    row = page.locator("tr", has=link)
    assert row.locator(".badge").inner_text() == "ok"
    svg_row = page.locator("tr", has=page.get_by_role("link", name="page.svg"))
    assert svg_row.locator(".badge").inner_text() == "reject"
    assert "active content" in svg_row.inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{origin.url}/_console/sign-in")
    page.goto(f"{origin.url}/_console/")
    assert page.url == f"{origin.url}/_console/sign-in"


def test_upload_by_input_and_by_drop_see_the_refusal_and_convert_it(origin, page, tmp_path):
    sign_in(page, origin, "/_console/browse/campaigns")
    good = tmp_path / "summer.jpg"
    fx.image(good, size=(800, 600))
    scan = tmp_path / "scan.bmp"
    fx.image(scan, fmt="BMP")
    page.get_by_label("Upload files").set_input_files([str(good), str(scan)])
    stored = upload_row(page, "/campaigns/summer.jpg")
    playwright.expect(stored.locator(".badge")).to_have_text("ok")
    assert stored.locator("progress").get_attribute("value") == "100"
    assert (origin.root / "campaigns/summer.jpg").read_bytes() == good.read_bytes()
    refused = upload_row(page, "/campaigns/scan.bmp")
    playwright.expect(refused.locator(".badge")).to_have_text("reject")
    assert "not a type WhatsApp accepts" in refused.locator(".problems").inner_text()
    assert not (origin.root / "campaigns/scan.bmp").exists()
    refused.get_by_role("button", name="Convert").click()
    playwright.expect(refused.locator(".status")).to_contain_text(
        "converted and stored as /campaigns/scan.jpg", timeout=60_000
    )
    playwright.expect(refused.locator(".badge")).to_have_text("ok")
    assert (origin.root / "campaigns/scan.jpg").exists()
    dropped = base64.b64encode(fx.encoded(size=(120, 90))).decode()
    page.evaluate(
        """(data) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
          const zone = document.getElementById("drop");
          for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true }));
          }
        }""",
        dropped,
    )
    playwright.expect(upload_row(page, "/campaigns/dropped.jpg").locator(".badge")).to_have_text(
        "ok"
    )
    assert (origin.root / "campaigns/dropped.jpg").read_bytes() == base64.b64decode(dropped)


def clipboard_after(page, button: str) -> str:
    page.get_by_role("button", name=button).click()
    playwright.expect(page.locator("#copied")).to_have_text("Copied.")
    text = page.evaluate("navigator.clipboard.readText()")
    page.evaluate("document.getElementById('copied').textContent = ''")
    return text


def test_copy_each_link_the_media_id_and_the_message_json(origin, page):
    sign_in(page, origin, "/_console/file/campaigns/promo.jpg")
    assert clipboard_after(page, "Copy link") == page.locator("#link").inner_text()
    versioned = clipboard_after(page, "Copy versioned link")
    assert versioned == page.locator("#versioned-link").inner_text() and "?v=" in versioned
    page.get_by_role("button", name="Get a media ID").click()  # the loopback provider's upload
    page.wait_for_url(f"{origin.url}/_console/file/campaigns/promo.jpg")
    media_id = clipboard_after(page, "Copy media ID")
    assert media_id == page.locator("#media-id").inner_text() and media_id
    page.get_by_label("Recipient (international form)").fill("+49 170 1234567")
    body = json.loads(clipboard_after(page, "Copy message JSON"))
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "491701234567",
        "type": "image",
        "image": {"id": media_id},
    }


def test_a_signed_folders_link_is_copied_for_the_expiry_picked(browser, tmp_path):
    root = tmp_path / "media"
    (root / "private").mkdir(parents=True)
    fx.image(root / "private/offer.jpg")
    config = write_config(
        tmp_path,
        '[api]\ntoken_env = "BROWSER_TOKEN"\nsigning_key_env = "BROWSER_KEY"\n\n'
        '[console]\nenabled = true\n\n[policy."/private"]\nsigned = true\n',
    )
    env = {"BROWSER_TOKEN": TOKEN, "BROWSER_KEY": "s" * 40}
    with start_server(config, root, env=env) as origin:
        context = browser.new_context()
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin.url)
        page = context.new_page()
        sign_in(page, origin, "/_console/file/private/offer.jpg")
        page.get_by_label("Signed link valid for").select_option(label="7 days")
        page.get_by_role("button", name="Copy signed link").click()
        playwright.expect(page.locator("#copied")).to_have_text("Copied.")
        link = page.evaluate("navigator.clipboard.readText()")
        expires = int(link.split("expires=")[1].split("&")[0])
        assert abs(expires - (time.time() + 7 * 86_400)) < 120
        relative = "/" + link.split("/", 3)[3]
        assert page.request.get(f"{origin.url}{relative}").status == 200  # the link works
        context.close()


def test_the_preview_plays_a_videos_first_second_through_range_requests(origin, page):
    sign_in(page, origin, "/_console/file/campaigns/clip.mp4")
    video = page.locator("video")
    assert video.get_attribute("src") == "/campaigns/clip.mp4"
    page.evaluate("document.querySelector('video').muted = true")
    page.evaluate("document.querySelector('video').play()")
    wait_until(page, "document.querySelector('video').currentTime >= 1")
    fetched = [line for line in origin.access_log() if line.get("path") == "/campaigns/clip.mp4"]
    assert any(line["status"] == 206 and line.get("range") for line in fetched), fetched


def test_replace_then_delete_after_the_warning_about_metas_cache(origin, page, tmp_path):
    fx.image(origin.root / "campaigns/banner.jpg", size=(64, 48))
    sign_in(page, origin, "/_console/file/campaigns/banner.jpg")
    dialogs = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    new = tmp_path / "banner.jpg"
    fx.image(new, size=(320, 200))
    page.get_by_label("Replacement file").set_input_files(str(new))
    page.get_by_role("button", name="Replace", exact=True).click()
    wait_until(page, "performance.getEntriesByType('navigation')[0].type === 'reload'")
    assert "10 minutes" in dialogs[0]
    assert (origin.root / "campaigns/banner.jpg").read_bytes() == new.read_bytes()
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(f"{origin.url}/_console/browse/campaigns/")
    assert "10 minutes" in dialogs[1]
    assert not (origin.root / "campaigns/banner.jpg").exists()
    assert page.get_by_role("link", name="banner.jpg").count() == 0


def test_a_request_without_the_csrf_token_is_refused_and_changes_nothing(origin, page):
    sign_in(page, origin, "/_console/browse/campaigns")
    statuses = page.evaluate(
        """async () => [
          (await fetch("/_console/delete/campaigns/promo.jpg", {method: "POST",
             headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: ""})).status,
          (await fetch("/_console/files/campaigns/forged.jpg", {method: "PUT", body: "x"})).status,
          (await fetch("/_console/sign-out", {method: "POST", body: "csrf=no",
             headers: {"Content-Type": "application/x-www-form-urlencoded"}})).status,
        ]"""
    )
    assert statuses == [403, 403, 403]
    assert (origin.root / "campaigns/promo.jpg").exists()
    assert not (origin.root / "campaigns/forged.jpg").exists()
    page.reload()  # still signed in: the forged sign-out did nothing
    assert page.url == f"{origin.url}/_console/browse/campaigns"


@pytest.mark.parametrize(
    "where", ["/_console/browse/campaigns", "/_console/file/campaigns/promo.jpg"]
)
def test_the_pages_fit_a_phones_width(origin, browser, where):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    sign_in(page, origin, where)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.get_by_role("button", name="Sign out").is_visible()
    context.close()


def test_screenshots(origin, page, tmp_path):
    """docs/console-browse.png, docs/console-file.png, docs/console-upload.png: the
    README shows them; this test makes them again from the running console."""
    DOCS.mkdir(exist_ok=True)
    sign_in(page, origin, "/_console/browse/campaigns")
    page.screenshot(path=str(DOCS / "console-browse.png"), full_page=True)
    page.goto(f"{origin.url}/_console/file/campaigns/promo.jpg")
    page.screenshot(path=str(DOCS / "console-file.png"), full_page=True)
    page.goto(f"{origin.url}/_console/browse/campaigns")
    big = tmp_path / "brochure.pdf"
    big.write_bytes(b"%PDF-1.4\n" + os.urandom(3_000_000) + b"\n%%EOF\n")
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    page.get_by_label("Upload files").set_input_files(str(big))
    bar = upload_row(page, "/campaigns/brochure.pdf").locator("progress")
    wait_until(
        page,
        "(() => { const bar = document.querySelector('.upload-item progress');"
        " return bar !== null && bar.value >= 10 && bar.value < 100; })()",
    )
    page.screenshot(path=str(DOCS / "console-upload.png"), full_page=True)
    middle = int(bar.get_attribute("value"))
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    playwright.expect(bar).to_have_attribute("value", "100", timeout=60_000)
    assert 10 <= middle < 100  # a real progress bar: caught part way
    for name in ("console-browse.png", "console-file.png", "console-upload.png"):
        assert (DOCS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
