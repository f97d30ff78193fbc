"""The console in a real browser: Chromium from the system's packages driven by
Playwright for Python (its own browser download is not used). A person signs
in by the labelled field and button, finds a file by its name, and signs out;
a page without a session sends them to sign-in."""

import os
import shutil

import pytest

from tests.helpers import media as fx
from tests.helpers.servers import start_server, write_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api", reason="the test extras install it")
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="chromium not installed (.ci/run installs it)"
)
TOKEN = "browser-token-8812"


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    root = folder / "media"
    (root / "campaigns").mkdir(parents=True)
    fx.image(root / "campaigns/promo.jpg")
    config = write_config(
        folder, '[api]\ntoken_env = "BROWSER_TOKEN"\n\n[console]\nenabled = true\n'
    )
    with start_server(config, root, env={"BROWSER_TOKEN": TOKEN}) as server:
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
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_sign_in_find_a_file_and_sign_out(origin, page):
    page.goto(f"{origin.url}/_console/browse/campaigns")
    assert page.url == f"{origin.url}/_console/sign-in"  # no session: sent to sign in
    page.get_by_label("API token").fill("not the token")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That is not the API token."
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{origin.url}/_console/")
    page.goto(f"{origin.url}/_console/browse/campaigns")
    link = page.get_by_role("link", name="promo.jpg")
    assert link.get_attribute("href") == "/campaigns/promo.jpg"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{origin.url}/_console/sign-in")
    page.goto(f"{origin.url}/_console/browse/campaigns")
    assert page.url == f"{origin.url}/_console/sign-in"  # the session ended


def test_the_pages_run_no_inline_script_and_report_no_csp_violation(origin, page):
    """The strict CSP is not broken by the console's own pages: no violation is reported."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto(f"{origin.url}/_console/sign-in")
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{origin.url}/_console/")
    assert not [text for text in violations if "Content Security Policy" in text], violations
