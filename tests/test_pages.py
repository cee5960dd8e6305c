"""The home page and the health check, through HTTP."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alternates: list[dict[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "link" and attributes.get("rel") == "alternate":
            self.alternates.append(attributes)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_home_lists_championships_rounds_competitors_and_feeds(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = _parse(response.get_data(as_text=True))
    text = " ".join(" ".join(page.text).split())
    for expected in (
        "GT4 European Series 2023",
        "ADAC GT4 Germany 2023",
        "Circuit Paul Ricard",
        "Spa-Francorchamps",
        "Circuit Zandvoort",
        "Andreas Bäckman",
        "Jessica Bäckman",
        "29 September – 1 October 2023",
    ):
        assert expected in text
    hrefs = response.get_data(as_text=True)
    for path in (
        "/calendar.ics",
        "/championships/gt4-european-series-2023/calendar.ics",
        "/competitors/jessica-backman/news.atom",
        "/news.json",
    ):
        assert f'href="{path}"' in hrefs
    assert {a["href"] for a in page.alternates} == {
        "/calendar.ics",
        "/news.rss",
        "/news.atom",
        "/news.json",
    }


def test_home_escapes_data(app, client) -> None:
    from service.writes import write

    with write(app, actor="test") as w:
        w.upsert_championship(
            "xss-cup-2024", {"name": "<script>alert(1)</script> Cup", "series": "X", "season": 2024}
        )
    body = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Cup" in body


def test_healthz_reports_data_version_and_publication(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    text = response.data.decode().strip()
    assert re.fullmatch(r"ok data_version=1 published=[1-9][0-9]*", text), text


def test_unknown_page_is_a_404_page(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"404" in response.data and b"Traceback" not in response.data


def test_round_page_shows_sessions_tbc_and_results(client) -> None:
    response = client.get("/championships/gt4-european-series-2023/rounds/2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = _parse(html)
    text = " ".join(" ".join(page.text).split())
    assert "Round 2: Circuit Paul Ricard" in text
    assert "Sat 3 June, time TBC (morning)" in text
    assert "Sat 3 June, time TBC (afternoon)" in text
    assert "date and time TBC" in text  # the practice sessions and race 2: no day stated
    assert "57 cars" in text
    assert "Retired on lap 1 after an incident damaged the front of the car." in text
    assert "DNS (did not start)" in text
    assert {a["href"] for a in page.alternates} >= {
        "/championships/gt4-european-series-2023/calendar.ics",
        "/championships/gt4-european-series-2023/news.atom",
    }


def test_championship_and_competitor_pages(client) -> None:
    championship = client.get("/championships/gt4-european-series-2023")
    assert championship.status_code == 200
    text = " ".join(" ".join(_parse(championship.get_data(as_text=True)).text).split())
    assert "29 September – 1 October 2023" in text and "Aston Martin Vantage GT4" in text
    competitor = client.get("/competitors/andreas-backman")
    page = _parse(competitor.get_data(as_text=True))
    text = " ".join(" ".join(page.text).split())
    assert "ADAC GT4 Germany 2023" in text and "GT4 European Series 2023" in text
    assert "Aston Martin Vantage GT4 with racing one; shared with Jessica Bäckman." in text
    assert "Car not published, team not published; shared with Jessica Bäckman." in text
    assert "13th" in text  # his qualifying 2
    assert {a["href"] for a in page.alternates} >= {
        "/competitors/andreas-backman/calendar.ics",
        "/competitors/andreas-backman/news.rss",
    }


def test_article_page(client) -> None:
    response = client.get("/news/tough-weekend-for-the-backman-siblings-in-france")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Tough weekend for the Bäckman siblings in France</h1>" in html
    assert "<h2>Andreas and Jessica’s results</h2>" in html
    assert 'href="https://www.mynewsdesk.com/se/ja-backman/images"' in html


def test_unknown_pages_are_404s(client) -> None:
    for url in (
        "/championships/nope",
        "/championships/gt4-european-series-2023/rounds/9",
        "/competitors/nope",
        "/news/nope",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Traceback" not in response.data
