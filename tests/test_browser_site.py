"""The fan's website in a real browser: Playwright driving Debian's chromium against the app
served on a loopback port. What a person sees: the subscribe panel with and without
JavaScript, times in their own zone, pages that fit a phone, axe-core's verdict in light and
dark, and no request leaving the site. Screenshots of every page kind go to tests/output/.

Without chromium or Playwright these tests skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from .conftest import make_app, new_token

CHROMIUM = "/usr/bin/chromium"  # Debian's package; .ci/run installs it where missing
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
OUTPUT = Path(__file__).resolve().parent / "output"
GT4 = "gt4-european-series-2023"
ROUND = f"/championships/{GT4}/rounds/2"
# One page of each kind the site has.
PAGE_KINDS = {
    "home": "/",
    "championship": f"/championships/{GT4}",
    "round": ROUND,
    "competitor": "/competitors/jessica-backman",
    "news": "/news",
    "article": "/news/tough-weekend-for-the-backman-siblings-in-france",
    "api-docs": "/api/v1/docs",
    "feeds": "/feeds",
    "not-found": "/championships/no-such-championship",
}
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}

if os.environ.get("CI"):
    import playwright.sync_api as sync_api  # under CI a missing package is a failure
else:
    sync_api = pytest.importorskip("playwright.sync_api")


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _time_race_2(app) -> str:
    """Through the API: race 2 of round 2 at 11:30 circuit time (CEST) on Sunday 4 June 2023
    (the seed has no clock times). Returns a token for further writes."""
    client = app.test_client()
    token = new_token(app)
    path = f"/api/v1/championships/{GT4}/rounds/2/sessions/race-2"
    etag = client.get(path).headers["ETag"]
    response = client.patch(
        path,
        json={"local_date": "2023-06-04", "local_time": "11:30", "duration_minutes": 60},
        headers=_auth(token, **{"If-Match": etag}),
    )
    assert response.status_code == 200, response.json
    return token


def _add_next_round(app, token: str) -> None:
    """Through the API: a round a month from now with a timed race, for the countdown."""
    client = app.test_client()
    start = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    response = client.post(
        f"/api/v1/championships/{GT4}/rounds",
        json={
            "number": 9,
            "circuit": "zandvoort",
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=2)).isoformat(),
        },
        headers=_auth(token),
    )
    assert response.status_code == 201, response.json
    response = client.post(
        f"/api/v1/championships/{GT4}/rounds/9/sessions",
        json={
            "slug": "race-1",
            "name": "Race 1",
            "kind": "race",
            "local_date": (start + dt.timedelta(days=2)).isoformat(),
            "local_time": "14:00",
            "duration_minutes": 60,
        },
        headers=_auth(token),
    )
    assert response.status_code == 201, response.json


@contextmanager
def _serving(tmp: Path, seeded: Path, next_round: bool) -> Iterator[str]:
    """The app on a loopback port (a real HTTP server in a thread); yields its base URL."""
    path = tmp / "site.sqlite3"
    shutil.copy(seeded, path)
    app = make_app(path, AUTO_SEED=False, RUN_WORKER_IN_PROCESS="0")
    token = _time_race_2(app)
    if next_round:
        _add_next_round(app, token)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, seeded_template: Path) -> Iterator[str]:
    """The seed data with race 2 of round 2 timed, served on loopback."""
    with _serving(tmp_path_factory.mktemp("browser"), seeded_template, False) as url:
        yield url


@pytest.fixture(scope="module")
def site_with_next_round(
    tmp_path_factory: pytest.TempPathFactory, seeded_template: Path
) -> Iterator[str]:
    """As ``site``, plus a round a month from now (for the countdown and "next")."""
    with _serving(tmp_path_factory.mktemp("browser-next"), seeded_template, True) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium under Playwright (a downloaded browser cannot be had here)."""
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


def _new_page(browser, **options):
    context = browser.new_context(
        viewport=options.pop("viewport", {"width": 1280, "height": 900}), **options
    )
    return context, context.new_page()


def _calendar_of(kind: str, href: str) -> str:
    parts = urlsplit(href)
    if kind == "webcal":
        assert parts.scheme == "webcal"
        return parts._replace(scheme="http").geturl()
    if kind == "google":
        assert href.startswith("https://calendar.google.com/calendar/r?cid=")
        return parse_qs(parts.query)["cid"][0]
    host = {"outlook": "outlook.live.com", "office": "outlook.office.com"}[kind]
    assert parts.netloc == host
    return parse_qs(parts.query)["url"][0]


def _panel_links(page) -> dict[str, str]:
    return {
        a.get_attribute("data-sub-link"): a.get_attribute("href")
        for a in page.locator("a[data-sub-link]").all()
    }


def test_subscribe_panel_builds_the_url_live(site: str, browser) -> None:
    context, page = _new_page(browser)
    page.goto(f"{site}/championships/{GT4}")
    wanted = f"{site}/championships/{GT4}/calendar.ics?include=race&alarm=30"
    assert (
        page.locator("[data-sub-url]").input_value() == f"{site}/championships/{GT4}/calendar.ics"
    )
    page.get_by_label("Race", exact=True).check()
    page.get_by_label("30 min before").check()
    assert page.locator("[data-sub-url]").input_value() == wanted
    links = _panel_links(page)
    assert set(links) == {"webcal", "google", "outlook", "office"}
    assert {kind: _calendar_of(kind, href) for kind, href in links.items()} == dict.fromkeys(
        links, wanted
    )
    for kind in ("outlook", "office"):
        assert parse_qs(urlsplit(links[kind]).query)["name"] == ["GT4 European Series 2023"]
    qr = page.locator("img[data-sub-qr]").get_attribute("src")
    assert parse_qs(urlsplit(qr).query)["url"] == [wanted]
    # The new QR image loads asynchronously after its src changes (slow under load): wait
    # for it (Playwright's deadline), then check it decoded to a picture.
    page.wait_for_function("document.querySelector('img[data-sub-qr]').complete")
    assert page.evaluate("document.querySelector('img[data-sub-qr]').naturalWidth") > 0
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page.get_by_role("button", name="Copy link").click()
    page.get_by_text("Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == wanted
    assert not page.get_by_role("button", name="Show my calendar link").is_visible()
    # Every kind ticked is no filter at all (kinds added later reach the subscriber too).
    for kind in ("Practice", "Qualifying", "Weekend"):
        page.get_by_label(kind, exact=True).check()
    assert page.locator("[data-sub-url]").input_value() == wanted.replace("include=race&", "")
    for kind in ("Practice", "Qualifying", "Weekend"):
        page.get_by_label(kind, exact=True).uncheck()
    # A second reminder and UTC: the URL follows.
    page.get_by_label("1 day before").check()
    page.get_by_label("UTC", exact=True).check()
    assert page.locator("[data-sub-url]").input_value() == wanted + "&alarm=1440&tz=utc"
    context.close()


def test_subscribe_panel_without_javascript(site: str, browser) -> None:
    context, page = _new_page(browser, java_script_enabled=False)
    page.goto(f"{site}/championships/{GT4}")
    page.get_by_label("Race", exact=True).check()
    page.get_by_label("30 min before").check()
    page.get_by_role("button", name="Show my calendar link").click()
    page.wait_for_url(re.compile(r"include=race"))
    wanted = f"{site}/championships/{GT4}/calendar.ics?include=race&alarm=30"
    assert page.locator("[data-sub-url]").input_value() == wanted
    links = _panel_links(page)
    assert {kind: _calendar_of(kind, href) for kind, href in links.items()} == dict.fromkeys(
        links, wanted
    )
    assert page.get_by_label("Race", exact=True).is_checked()
    context.close()


def _race_2_your_time(page) -> str:
    return page.locator("#race-2 td[data-label='Your time']").inner_text().strip()


def test_times_in_the_viewers_zone(site: str, browser) -> None:
    context, page = _new_page(browser, timezone_id="America/New_York")
    page.goto(site + ROUND)
    assert "11:30 CEST" in page.locator("#race-2 td[data-label='Circuit time']").inner_text()
    assert _race_2_your_time(page) == "Sun 4 June 05:30 EDT"
    assert page.locator("th [data-your-zone]").first.text_content() == "America/New York"
    context.close()


def test_zone_picker_changes_every_time_and_survives_a_reload(site: str, browser) -> None:
    context, page = _new_page(browser, timezone_id="America/New_York")
    page.goto(site + ROUND)
    assert _race_2_your_time(page) == "Sun 4 June 05:30 EDT"
    page.get_by_label("Your time zone").select_option("Asia/Tokyo")
    assert _race_2_your_time(page) == "Sun 4 June 18:30 GMT+9"
    times = page.locator('time[datetime$="Z"]:not([data-countdown])')
    assert times.count() >= 1
    assert set(times.evaluate_all("els => els.map(e => e.dataset.zone)")) == {"Asia/Tokyo"}
    page.reload()
    assert _race_2_your_time(page) == "Sun 4 June 18:30 GMT+9"
    assert page.get_by_label("Your time zone").input_value() == "Asia/Tokyo"
    context.close()


def test_server_side_zone_without_javascript(site: str, browser) -> None:
    context, page = _new_page(browser, java_script_enabled=False)
    page.goto(site + ROUND)
    assert _race_2_your_time(page) == "Sun 4 June 09:30 UTC"
    page.get_by_label("Your time zone").select_option("America/New_York")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url(re.compile(r"tz=America"))
    assert _race_2_your_time(page) == "Sun 4 June 05:30 EDT"
    context.close()


def test_countdown_to_the_next_session(site_with_next_round: str, browser) -> None:
    site = site_with_next_round
    context, page = _new_page(browser)
    for path in ("/", f"/championships/{GT4}", "/competitors/jessica-backman"):
        page.goto(site + path)
        text = page.locator("[data-countdown]").inner_text()
        assert re.fullmatch(r"in (29|30|31|32) days \d+ h", text), (path, text)
    context.close()


def test_round_status_is_derived(site_with_next_round: str, browser) -> None:
    site = site_with_next_round
    context, page = _new_page(browser)
    page.goto(f"{site}/championships/{GT4}")
    rows = {
        row.locator("th").inner_text(): row.locator("td[data-label='Status']").inner_text()
        for row in page.locator("table.rounds tbody tr").all()
    }
    assert rows["Round 2: Circuit Paul Ricard"] == "completed"
    assert rows["Round 9: Circuit Zandvoort"] == "next"
    context.close()


def test_no_page_is_wider_than_a_phone(site: str, browser) -> None:
    context, page = _new_page(browser, viewport={"width": 360, "height": 740})
    for kind, path in PAGE_KINDS.items():
        page.goto(site + path)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (kind, width)
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(site: str, browser, scheme: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context, page = _new_page(browser, color_scheme=scheme, bypass_csp=True)
    found = {}
    for kind, path in PAGE_KINDS.items():
        page.goto(site + path)
        results = axe.run(page)
        if results.violations_count:
            found[kind] = results.generate_report()
    context.close()
    assert not found, "\n".join(f"{kind}:\n{report}" for kind, report in found.items())


def test_no_request_leaves_the_site_and_screenshots(site: str, browser) -> None:
    OUTPUT.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        context, page = _new_page(
            browser, viewport={"width": width, "height": height}, timezone_id="Europe/London"
        )
        requested: list[str] = []
        page.on("request", lambda request, seen=requested: seen.append(request.url))
        for kind, path in PAGE_KINDS.items():
            page.goto(site + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUTPUT / f"screenshot-{kind}-{size}.png"), full_page=True)
            # The first screen alone: what the README and OpenGraph previews show.
            page.screenshot(path=str(OUTPUT / f"first-screen-{kind}-{size}.png"))
            if kind == "round":
                page.locator("#race-1").scroll_into_view_if_needed()
                page.screenshot(path=str(OUTPUT / f"your-time-{kind}-{size}.png"))
        context.close()
        elsewhere = [url for url in requested if not url.startswith(site + "/")]
        assert not elsewhere, elsewhere
        assert len(requested) >= len(PAGE_KINDS) * 4  # page, stylesheet, two scripts at least


def test_keyboard_skip_link_and_visible_focus(site: str, browser) -> None:
    context, page = _new_page(browser)
    page.goto(f"{site}/championships/{GT4}")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const e = document.activeElement; const r = e.getBoundingClientRect();"
        " return [e.className, r.top >= 0 && r.bottom <= innerHeight,"
        " getComputedStyle(e).outlineStyle]; })()"
    )
    assert focused == ["skip-link", True, "solid"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    context.close()
