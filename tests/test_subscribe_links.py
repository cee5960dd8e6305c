"""The subscribe panel without JavaScript: webcal, Google, Outlook.com, Outlook for work and the
plain URL on every page with a calendar, the options form, the QR code and "add this
session". Every link is followed to a calendar this service serves and parsed with vobject."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import vobject

from .conftest import make_app

BASE = "https://feeds.example.org"
GT4 = "gt4-european-series-2023"
PANEL_PAGES = {
    "/": f"{BASE}/calendar.ics",
    f"/championships/{GT4}": f"{BASE}/championships/{GT4}/calendar.ics",
    f"/championships/{GT4}/rounds/2": f"{BASE}/championships/{GT4}/calendar.ics",
    "/competitors/jessica-backman": f"{BASE}/competitors/jessica-backman/calendar.ics",
}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self.hrefs: list[str] = []
        self.url_field = ""
        self.qr = ""
        self.checked: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a":
            self.hrefs.append(a.get("href", ""))
            if "data-sub-link" in a:
                self.links[a["data-sub-link"]] = a["href"]
        if tag == "input" and "data-sub-url" in a:
            self.url_field = a["value"]
        if tag == "input" and "checked" in a:
            self.checked.append((a["name"], a["value"]))
        if tag == "img" and "data-sub-qr" in a:
            self.qr = a["src"]


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture
def public_client(db_path: Path):
    return make_app(db_path, AUTO_SEED=False, PUBLIC_BASE_URL=BASE).test_client()


def _calendar_of_each_link(links: dict[str, str]) -> dict[str, str]:
    """The https calendar URL each subscribe link carries."""
    found = {}
    for kind, href in links.items():
        parts = urlsplit(href)
        if kind == "webcal":
            assert parts.scheme == "webcal"
            found[kind] = parts._replace(scheme="https").geturl()
        elif kind == "google":
            assert (parts.netloc, parts.path) == ("calendar.google.com", "/calendar/r")
            found[kind] = parse_qs(parts.query)["cid"][0]
        else:
            host = {"outlook": "outlook.live.com", "office": "outlook.office.com"}[kind]
            assert (parts.netloc, parts.path) == (host, "/calendar/0/addfromweb")
            found[kind] = parse_qs(parts.query)["url"][0]
    return found


def test_every_page_with_a_calendar_offers_every_app(public_client) -> None:
    for page_path, calendar in PANEL_PAGES.items():
        page = _parse(public_client.get(page_path).get_data(as_text=True))
        assert page.url_field == calendar, page_path
        assert set(page.links) == {"webcal", "google", "outlook", "office"}, page_path
        assert set(_calendar_of_each_link(page.links).values()) == {calendar}, page_path
        response = public_client.get(urlsplit(calendar).path)
        assert response.status_code == 200
        assert vobject.readOne(response.get_data(as_text=True)).name == "VCALENDAR"


def test_outlook_links_carry_the_calendars_real_name(public_client) -> None:
    page = _parse(public_client.get(f"/championships/{GT4}").get_data(as_text=True))
    for kind in ("outlook", "office"):
        assert parse_qs(urlsplit(page.links[kind]).query)["name"] == ["GT4 European Series 2023"]


def test_no_js_form_race_and_30_minutes(public_client) -> None:
    response = public_client.get(f"/championships/{GT4}?include=race&alarm=30&zone=circuit")
    page = _parse(response.get_data(as_text=True))
    wanted = f"{BASE}/championships/{GT4}/calendar.ics?include=race&alarm=30"
    assert page.url_field == wanted
    assert set(_calendar_of_each_link(page.links).values()) == {wanted}
    assert ("include", "race") in page.checked and ("alarm", "30") in page.checked
    assert ("zone", "circuit") in page.checked
    calendar = vobject.readOne(
        public_client.get(urlsplit(wanted).path + "?" + urlsplit(wanted).query).get_data(
            as_text=True
        )
    )
    kinds = {str(e.categories.value[-1]) for e in calendar.vevent_list}
    assert kinds == {"Race"}


def test_no_js_form_several_reminders_and_utc(public_client) -> None:
    query = "include=qualifying&include=race&alarm=1440&alarm=15&zone=utc"
    page = _parse(public_client.get(f"/competitors/jessica-backman?{query}").get_data(as_text=True))
    assert page.url_field == (
        f"{BASE}/competitors/jessica-backman/calendar.ics"
        "?include=qualifying&include=race&alarm=15&alarm=1440&tz=utc"
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("include=lunch", "include"),
        ("alarm=7", "alarm"),
        ("alarm=x", "alarm"),
        ("zone=mars", "zone"),
        ("tz=Mars/Base", "tz"),
    ],
)
def test_bad_panel_options_are_400s_naming_the_field(public_client, query: str, field: str) -> None:
    response = public_client.get(f"/championships/{GT4}?{query}")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert f"{field}:" in body and "Traceback" not in body


def test_qr_code_encodes_the_chosen_url(public_client) -> None:
    page = _parse(
        public_client.get(f"/championships/{GT4}?include=race&alarm=30").get_data(as_text=True)
    )
    response = public_client.get(page.qr)
    assert response.status_code == 200
    assert response.content_type == "image/svg+xml"
    svg = ElementTree.fromstring(response.data)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert parse_qs(urlsplit(page.qr).query)["url"] == [
        f"{BASE}/championships/{GT4}/calendar.ics?include=race&alarm=30"
    ]
    for foreign in ("https://evil.example/x.ics", f"{BASE}/news.rss", ""):
        assert (
            public_client.get("/subscribe/qr.svg", query_string={"url": foreign}).status_code == 400
        )


def test_add_this_session_is_one_event_with_the_feeds_uid(public_client) -> None:
    page = _parse(public_client.get(f"/championships/{GT4}/rounds/2").get_data(as_text=True))
    session_links = [h for h in page.hrefs if "/sessions/" in h and h.endswith(".ics")]
    assert session_links, "no add-this-session link"
    feed = vobject.readOne(
        public_client.get(f"/championships/{GT4}/calendar.ics").get_data(as_text=True)
    )
    feed_uids = {e.uid.value for e in feed.vevent_list}
    for href in session_links:
        one = vobject.readOne(public_client.get(href).get_data(as_text=True))
        assert len(one.vevent_list) == 1, href
        assert one.vevent.uid.value in feed_uids
        assert one.vevent.uid.value.startswith(f"{GT4}.2.{href.rsplit('/', 1)[1][:-4]}@")
    weekend = [h for h in page.hrefs if h == f"/championships/{GT4}/rounds/2.ics"]
    assert weekend, "no add-this-weekend link"
    google = [h for h in page.hrefs if h.startswith("https://calendar.google.com/calendar/render?")]
    assert google and all(parse_qs(urlsplit(h).query)["action"] == ["TEMPLATE"] for h in google)
    assert all(parse_qs(urlsplit(h).query)["ctz"] == ["Europe/Paris"] for h in google)


def test_a_session_without_a_day_has_no_one_event_calendar(public_client) -> None:
    response = public_client.get(f"/championships/{GT4}/rounds/2/sessions/free-practice-1.ics")
    assert response.status_code == 404
    assert public_client.get(f"/championships/{GT4}/rounds/2/sessions/nope.ics").status_code == 404


def test_every_kind_ticked_means_no_filter(public_client) -> None:
    query = "include=practice&include=qualifying&include=race&include=weekend&zone=circuit"
    page = _parse(public_client.get(f"/championships/{GT4}?{query}").get_data(as_text=True))
    assert page.url_field == f"{BASE}/championships/{GT4}/calendar.ics"
