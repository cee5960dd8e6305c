"""OPML lists of every feed (read with listparser and ElementTree, not our writer), the feeds
page, and CORS preflights: reads open to every origin, writes not."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import listparser
import pytest

GT4 = "gt4-european-series-2023"
ORIGIN = {"Origin": "https://team.example"}


def _api_slugs(client, path: str) -> list[str]:
    return [item["slug"] for item in client.get(path, query_string={"limit": 100}).json["items"]]


def test_feeds_opml_lists_every_feed_grouped_by_championship_and_competitor(client) -> None:
    response = client.get("/feeds.opml")
    assert response.status_code == 200
    assert response.content_type.startswith("text/x-opml")
    parsed = listparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.meta["title"] == "gridfeed: every feed"
    assert parsed.meta["created_parsed"] is not None  # an RFC 822 date, as OPML 2.0 wants
    news = {feed["url"] for feed in parsed.feeds}
    championships = _api_slugs(client, "/api/v1/championships")
    competitors = _api_slugs(client, "/api/v1/competitors")
    assert championships and competitors
    expected = {
        f"http://localhost{prefix}/news.{fmt}"
        for prefix in [
            "",
            *(f"/championships/{c}" for c in championships),
            *(f"/competitors/{c}" for c in competitors),
        ]
        for fmt in ("rss", "atom", "json")
    }
    assert news == expected
    for url in sorted(news)[:6]:  # they are real feeds
        assert client.get(url).status_code == 200
    # Grouping, and the calendars as links (readers skip them; people follow them).
    root = ET.fromstring(response.data)
    assert root.get("version") == "2.0"
    groups = [o.get("text") for o in root.find("body")]
    names = [client.get(f"/api/v1/championships/{c}").json["name"] for c in championships]
    assert groups[0] == "gridfeed: everything" and groups[-1] == "Competitors"
    assert set(names) <= set(groups)
    gt4 = next(o for o in root.find("body") if o.get("text") == "GT4 European Series 2023")
    calendars = [o.get("url") for o in gt4.iter("outline") if o.get("type") == "link"]
    assert f"http://localhost/championships/{GT4}/calendar.ics" in calendars
    assert f"http://localhost/championships/{GT4}/rounds/2.ics" in calendars
    for outline in root.iter("outline"):
        assert outline.get("text"), "OPML 2.0: every outline has text"
        if outline.get("type") == "rss":
            assert outline.get("xmlUrl")
    # Cached like a feed.
    again = client.get("/feeds.opml", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_championships_opml_has_its_feeds_rounds_and_competitors(client) -> None:
    response = client.get(f"/championships/{GT4}/feeds.opml")
    parsed = listparser.parse(response.data)
    assert not parsed.bozo
    urls = {feed["url"] for feed in parsed.feeds}
    assert f"http://localhost/championships/{GT4}/news.atom" in urls
    assert not any("adac-gt4-germany" in url for url in urls)
    entered = {
        c["slug"]
        for c in client.get("/api/v1/competitors?limit=100").json["items"]
        if any(e["championship"] == GT4 for e in c["entries"])
    }
    assert entered
    assert {f"http://localhost/competitors/{c}/news.rss" for c in entered} <= urls
    assert client.get("/championships/no-such/feeds.opml").status_code == 404


def test_the_feeds_page_lists_the_same_urls_for_people(client) -> None:
    page = client.get("/feeds").get_data(as_text=True)
    opml = listparser.parse(client.get("/feeds.opml").data)
    for feed in opml.feeds:
        assert feed["url"] in page
    assert f"http://localhost/championships/{GT4}/rounds/2.ics" in page
    assert 'href="/feeds.opml"' in page


READS = [
    f"/championships/{GT4}/calendar.ics",
    f"/championships/{GT4}/rounds/2.ics",
    "/calendar.ics",
    "/competitors/andreas-backman/calendar.ics",
    "/news.rss",
    f"/championships/{GT4}/news.json",
    "/feeds.opml",
    "/api/v1/championships",
    f"/api/v1/championships/{GT4}/rounds/2",
]


@pytest.mark.parametrize("path", READS)
def test_a_preflight_for_a_read_answers_204_with_the_conditional_headers(client, path) -> None:
    response = client.options(
        path,
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match, if-modified-since",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"if-none-match", "if-modified-since"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers
    # The read itself lets browser code see the validators it needs for conditional requests.
    read = client.get(path, headers=ORIGIN)
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_preflight_for_a_write_grants_nothing(client, method) -> None:
    path = "/api/v1/championships" if method == "POST" else f"/api/v1/championships/{GT4}"
    response = client.options(
        path,
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert method in response.headers["Allow"]
    assert not [h for h in response.headers if h[0].lower().startswith("access-control-allow")]


def test_a_preflight_for_an_unknown_feed_is_not_granted(client) -> None:
    response = client.options(
        "/nothing-here.ics", headers={**ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 404
