"""Embeds in a real browser: a plain third-party page on a second loopback origin embeds the
iframe and the <gridfeed-schedule> component. Both show the next sessions in the browser's
zone, no request goes anywhere but the two origins, the component's API requests pass CORS,
and axe-core finds nothing in the iframe page. The screenshot is the README's.

Without chromium or Playwright these tests skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from .conftest import make_app, new_token
from .test_browser_site import CHROMIUM, CHROMIUM_ARGS, OUTPUT, sync_api

GT4 = "gt4-european-series-2023"
VIEWER_ZONE = "America/New_York"


def _add_future_round(app) -> dict:
    """Through the API: round 9 a month ahead, with a timed race; returns the race."""
    client, token = app.test_client(), new_token(app)
    auth = {"Authorization": f"Bearer {token}"}
    start = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    round_body = {
        "number": 9,
        "circuit": "zandvoort",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=2)).isoformat(),
    }
    response = client.post(f"/api/v1/championships/{GT4}/rounds", json=round_body, headers=auth)
    assert response.status_code == 201, response.json
    race = {
        "slug": "race-1",
        "name": "Race 1",
        "kind": "race",
        "local_date": (start + dt.timedelta(days=2)).isoformat(),
        "local_time": "14:00",
        "duration_minutes": 60,
    }
    response = client.post(
        f"/api/v1/championships/{GT4}/rounds/9/sessions", json=race, headers=auth
    )
    assert response.status_code == 201, response.json
    return response.json


@contextmanager
def _serve_wsgi(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def third_party_page(site: str) -> bytes:
    """A team's plain web page that embeds both ways, themed through custom properties."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Racing One: our season</title>
<style>
  body {{ font-family: Georgia, serif; max-width: 760px; margin: 2rem auto; color: #222; }}
  gridfeed-schedule {{ --gridfeed-accent: #0b5394; --gridfeed-font: Georgia, serif;
    border: 1px solid #ccc; padding: .8rem; }}
</style></head>
<body>
<h1>Racing One</h1>
<p>Follow our GT4 season: the schedule below is always up to date, in your own time.</p>
<h2>As an iframe</h2>
<iframe id="gridfeed-frame" src="{site}/embed/championships/{GT4}?limit=3"
  title="GT4 European Series 2023 schedule" width="480" height="420" style="border:0"></iframe>
<h2>As a web component</h2>
<script type="module" src="{site}/embed.js"></script>
<gridfeed-schedule championship="{GT4}" kinds="race" limit="3"></gridfeed-schedule>
</body></html>""".encode()


@contextmanager
def _serve_page(body: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def embedding(tmp_path_factory: pytest.TempPathFactory, seeded_template: Path):
    """(site origin, third-party origin, the race) with both servers running."""
    path = tmp_path_factory.mktemp("embed") / "site.sqlite3"
    shutil.copy(seeded_template, path)
    app = make_app(path, AUTO_SEED=False, RUN_WORKER_IN_PROCESS="0")
    race = _add_future_round(app)
    with _serve_wsgi(app) as site, _serve_page(third_party_page(site)) as page:
        yield site, page, race


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the chromium package")
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def test_iframe_and_component_on_another_origin(embedding, browser) -> None:
    site, third_party, race = embedding
    assert site != third_party
    context = browser.new_context(
        viewport={"width": 900, "height": 1100}, timezone_id=VIEWER_ZONE, locale="en-US"
    )
    requests: list = []
    context.on("request", lambda request: requests.append(request))
    page = context.new_page()
    page.goto(third_party)
    start = dt.datetime.fromisoformat(race["start_utc"]).astimezone(ZoneInfo(VIEWER_ZONE))
    clock = f"{start:%H:%M}"

    frame = page.frame_locator("#gridfeed-frame")
    session = frame.locator("ol.gf-sessions li", has_text="Race 1").first
    session.locator("time").wait_for()
    when = session.locator("time").inner_text()
    # Rewritten in the viewer's zone by the site's local-time.js (server text is UTC).
    assert clock in when and start.strftime("%Z") in when, when
    assert frame.locator("[data-your-zone]").inner_text() == "America/New York"
    assert frame.locator("time[data-countdown]").inner_text().startswith("in ")
    subscribe = frame.get_by_role("link", name="Subscribe to GT4 European Series 2023")
    assert subscribe.get_attribute("href") == f"{site}/championships/{GT4}#subscribe-heading"
    assert subscribe.get_attribute("target") == "_blank"

    component = page.locator("gridfeed-schedule")
    item = component.locator("li", has_text="Race 1")  # Playwright pierces the shadow root
    item.wait_for()
    assert f"{clock} {start:%Z}" in item.inner_text()  # the same words as the iframe
    assert "America/New York" in component.locator("h2").inner_text()
    # Themed by the page through a custom property.
    colour = component.locator("h2 a").evaluate("a => getComputedStyle(a).color")
    assert colour == "rgb(11, 83, 148)"
    page.wait_for_load_state("networkidle")

    urls = [r.url for r in requests]
    assert not [u for u in urls if not u.startswith((site + "/", third_party + "/"))], urls
    api = [r for r in requests if r.url.startswith(f"{site}/api/v1/sessions")]
    assert len(api) == 1, urls  # one request, however many attributes
    for request in api:  # cross-origin, and the answer let the page read it
        assert request.all_headers().get("origin") == third_party
        response = request.response()
        assert response.status == 200
        assert response.header_value("access-control-allow-origin") == "*"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "embed-widget.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_in_the_iframe_page(embedding, browser, scheme: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    site, _, _ = embedding
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    found = {}
    for path in (
        f"/embed/championships/{GT4}",
        f"/embed/championships/{GT4}?compact=1&theme=dark",
        "/embed/competitors/jessica-backman",
        f"/embed/championships/{GT4}/rounds/2",
    ):
        page.goto(site + path)
        results = Axe().run(page)
        if results.violations_count:
            found[path] = results.generate_report()
    context.close()
    assert not found, "\n".join(f"{path}:\n{report}" for path, report in found.items())
