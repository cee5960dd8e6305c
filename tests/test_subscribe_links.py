"""Subscribe links on the pages: webcal, Google, Outlook.com and the plain URL, all of which
lead to a calendar this service serves."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import vobject

from .conftest import make_app


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v or "" for k, v in attrs if k == "href")


def _hrefs(html: str) -> list[str]:
    parser = _Anchors()
    parser.feed(html)
    return parser.hrefs


def _calendar_urls(hrefs: list[str]) -> dict[str, set[str]]:
    """The https calendar URL each kind of subscribe link points at."""
    found: dict[str, set[str]] = {"webcal": set(), "google": set(), "outlook": set()}
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme == "webcal":
            found["webcal"].add(parts._replace(scheme="https").geturl())
        elif parts.netloc == "calendar.google.com":
            found["google"].update(parse_qs(parts.query)["cid"])
        elif parts.netloc == "outlook.live.com":
            found["outlook"].update(parse_qs(parts.query)["url"])
    return found


def test_home_offers_every_way_to_subscribe_to_each_calendar(db_path: Path) -> None:
    app = make_app(db_path, AUTO_SEED=False, PUBLIC_BASE_URL="https://feeds.example.org")
    client = app.test_client()
    found = _calendar_urls(_hrefs(client.get("/").get_data(as_text=True)))
    expected = {
        "https://feeds.example.org/calendar.ics",
        "https://feeds.example.org/championships/gt4-european-series-2023/calendar.ics",
        "https://feeds.example.org/competitors/jessica-backman/calendar.ics",
    }
    for kind, urls in found.items():
        assert expected <= urls, kind
        assert all(u.endswith("/calendar.ics") for u in urls), kind
    # Each link leads to a calendar that parses.
    for url in expected:
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200
        assert vobject.readOne(response.get_data(as_text=True)).name == "VCALENDAR"
    page = client.get("/").get_data(as_text=True)
    assert "<code>https://feeds.example.org/competitors/jessica-backman/calendar.ics</code>" in page
