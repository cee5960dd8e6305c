"""Security headers in a real browser (Playwright driving Debian's chromium): every page kind
loads under the Content-Security-Policy with no violation and its stylesheet applied, and
another site cannot frame a page.

Without chromium or Playwright these tests skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from .conftest import make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GT4 = "gt4-european-series-2023"
PAGE_KINDS = [
    "/",
    f"/championships/{GT4}",
    f"/championships/{GT4}/rounds/2",
    "/competitors/jessica-backman",
    "/news/tough-weekend-for-the-backman-siblings-in-france",
    "/api/v1/docs",
    "/championships/no-such-championship",
]
# Collects CSP violations the page reports, before any of its own code runs.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""

if os.environ.get("CI"):
    import playwright.sync_api as sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def site(db_path) -> Iterator[str]:
    """The app on a loopback port, served by werkzeug in a thread."""
    server = make_server("127.0.0.1", 0, make_app(db_path, AUTO_SEED=False), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_every_page_kind_loads_under_the_policy_without_a_violation(site, browser) -> None:
    page = browser.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    for path in PAGE_KINDS:
        response = page.goto(site + path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert page.evaluate("window.__violations") == [], path
        # The stylesheet is a file from 'self', so the policy lets it apply.
        assert page.evaluate("document.styleSheets.length") >= 1, path
        assert page.evaluate("document.styleSheets[0].cssRules.length") > 0, path
    assert not [text for text in console if "Content Security Policy" in text], console


def test_another_site_cannot_frame_a_page(site, browser) -> None:
    page = browser.new_page()
    page.set_content(f'<iframe src="{site}/" width="600" height="400"></iframe>')
    page.wait_for_timeout(1000)  # no event marks a refused frame; give it time to refuse
    framed = page.frames[1]
    body = framed.evaluate("document.body ? document.body.innerText : ''")
    assert "GT4 European Series 2023" not in body
    # The same page opened directly shows the championships.
    page.goto(site + "/")
    assert "GT4 European Series 2023" in page.inner_text("body")
