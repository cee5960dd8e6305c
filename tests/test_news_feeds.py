"""News feeds (RSS, Atom, JSON Feed) through HTTP, read back with feedparser and a JSON Feed
1.1 schema: entries for articles, results and schedule changes, ids, dates and caching."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import feedparser
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from service.domain.models import Championship, Entry, Round, Session
from service.writes import write

GT4 = "gt4-european-series-2023"
SCOPES = ("", f"/championships/{GT4}", "/competitors/jessica-backman")
FORMATS = ("rss", "atom", "json")
JSON_FEED_SCHEMA = json.loads(
    (Path(__file__).parent / "jsonfeed_1_1.schema.json").read_text(encoding="utf-8")
)


def _parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.data
    # The content type tells feedparser which format it is reading (it needs it for JSON Feed).
    headers = {"content-type": response.headers["Content-Type"]}
    return response, feedparser.parse(response.data, response_headers=headers)


def _session(w, number: int, slug: str) -> Session:
    champ = w.session.scalar(select(Championship).where(Championship.slug == GT4))
    round_ = w.session.scalar(
        select(Round).where(Round.championship == champ, Round.number == number)
    )
    return w.session.scalar(select(Session).where(Session.round == round_, Session.slug == slug))


def _entry(w) -> Entry:
    return w.session.scalar(select(Entry).where(Entry.slug == "racing-one-backman"))


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("fmt", ("rss", "atom"))
def test_xml_feeds_parse_cleanly_with_links_and_ids(client, scope: str, fmt: str) -> None:
    url = f"{scope}/news.{fmt}"
    response, feed = _parse(client, url)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert response.content_type == f"application/{fmt}+xml; charset=utf-8"
    assert response.headers["Link"] == (
        f'<http://localhost{url}>; rel="self", <http://localhost/websub>; rel="hub"'
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    self_links = [lk.href for lk in feed.feed.links if lk.rel == "self"]
    assert self_links == [f"http://localhost{url}"]
    # WebSub discovery inside the document too (feedgen never writes it for RSS).
    assert [lk.href for lk in feed.feed.links if lk.rel == "hub"] == ["http://localhost/websub"]
    alternate = [lk.href for lk in feed.feed.links if lk.rel == "alternate"]
    assert alternate == [f"http://localhost{scope or '/'}"]
    assert feed.entries
    for entry in feed.entries:
        assert entry.id.startswith("tag:gridfeed.test,")
        assert entry.link.startswith("http://localhost/")
        assert entry.published_parsed
    if fmt == "atom":
        assert feed.feed.id == f"tag:gridfeed.test,2023-01-01:news/{scope.strip('/') or 'all'}"
        assert feed.feed.author == "gridfeed"
        for entry in feed.entries:
            # feedgen issue 135 would drop these two attributes.
            assert [(lk.rel, lk.type) for lk in entry.links] == [("alternate", "text/html")]
    else:
        assert feed.feed.description
        assert all(entry.guidislink is False for entry in feed.entries)


@pytest.mark.parametrize("scope", SCOPES)
def test_json_feed_follows_version_1_1(client, scope: str) -> None:
    url = f"{scope}/news.json"
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type == "application/feed+json; charset=utf-8"
    document = json.loads(response.data)
    errors = list(
        Draft202012Validator(JSON_FEED_SCHEMA, format_checker=FormatChecker()).iter_errors(document)
    )
    assert errors == []
    assert document["feed_url"] == f"http://localhost{url}"
    assert document["home_page_url"] == f"http://localhost{scope or '/'}"
    for item in document["items"]:
        assert {"id", "content_html", "date_published", "date_modified"} <= set(item)
    ids = [item["id"] for item in document["items"]]
    assert ids and len(ids) == len(set(ids))
    # The same entries as the Atom feed of the same scope, in the same order.
    _, atom = _parse(client, f"{scope}/news.atom")
    assert ids == [e.id for e in atom.entries]


def test_seed_feed_has_the_article_and_six_results_entries(client) -> None:
    _, feed = _parse(client, f"/championships/{GT4}/news.atom")
    titles = sorted(e.title for e in feed.entries)
    assert "Tough weekend for the Bäckman siblings in France" in titles
    results = [t for t in titles if t.endswith(": results")]
    assert results == sorted(
        f"Circuit Paul Ricard, {name}: results"
        for name in (
            "Free Practice 1",
            "Free Practice 2",
            "Timed Qualifying 1",
            "Timed Qualifying 2",
            "Race 1",
            "Race 2",
        )
    )
    article = next(e for e in feed.entries if e.title.startswith("Tough weekend"))
    assert article.id == (
        "tag:gridfeed.test,2023-06-05:articles/tough-weekend-for-the-backman-siblings-in-france"
    )
    assert article.link == (
        "http://localhost/news/tough-weekend-for-the-backman-siblings-in-france"
    )
    assert article.published_parsed[:3] == (2023, 6, 5)
    assert "Jessica qualified 42nd in the first qualifying" in article.content[0].value


def test_competitor_results_entries_lead_with_their_line(client) -> None:
    _, feed = _parse(client, "/competitors/andreas-backman/news.atom")
    q2 = next(
        e for e in feed.entries if e.title == "Circuit Paul Ricard, Timed Qualifying 2: results"
    )
    html = q2.content[0].value
    assert html.startswith("<p><strong>Andreas Bäckman: 13th</strong></p>")
    # Jessica drove Q1 alone: Andreas's feed does not carry it, hers does.
    assert not any("Timed Qualifying 1" in e.title for e in feed.entries)
    _, hers = _parse(client, "/competitors/jessica-backman/news.atom")
    race_1 = next(e for e in hers.entries if e.title == "Circuit Paul Ricard, Race 1: results")
    assert race_1.content[0].value.startswith(
        "<p><strong>Jessica Bäckman: DNF: Retired on lap 1 after an incident damaged the front "
        "of the car.</strong></p>"
    )


def test_article_html_is_sanitised(app, client) -> None:
    body = (
        'Hello <script>alert("x")</script><img src="https://a.test/i.png" onerror="alert(1)">'
        ' [click](javascript:alert(1)) <a href="javascript:alert(2)">raw</a> & <b>bold</b>'
        ' 🏁 "quotes"'
    )
    with write(app, actor="test") as w:
        w.upsert_article(
            "xss-test",
            {
                "title": 'Ä <b>tricky</b> & "title" 🏁',
                "summary": "s",
                "author": "Test",
                "body_markdown": body,
                "published_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                "championships": [GT4],
                "competitors": [],
                "rounds": [],
                "links": [],
            },
        )
    for fmt in FORMATS:
        if fmt == "json":  # feedparser 6 does not read JSON Feed
            items = json.loads(client.get("/news.json").data)["items"]
            item = next(i for i in items if i["id"].endswith(":articles/xss-test"))
            title, html = item["title"], item["content_html"]
        else:
            _, feed = _parse(client, f"/news.{fmt}")
            assert feed.bozo == 0
            entry = next(e for e in feed.entries if e.id.endswith(":articles/xss-test"))
            title, html = entry.title, entry.content[0].value
        assert title == 'Ä <b>tricky</b> & "title" 🏁'
        # Markdown leaves a javascript: link as plain text; raw HTML loses the href.
        for bad in ("<script", "onerror", 'href="javascript:', "alert(2)"):
            assert bad not in html
        assert "<b>bold</b>" in html and "🏁" in html
    page = client.get("/news/xss-test").get_data(as_text=True)
    for bad in ("<script>alert", "onerror", 'href="javascript:', "alert(2)"):
        assert bad not in page


def test_publishing_and_correcting_results_updates_one_entry(app, client) -> None:
    def results_entries():
        _, feed = _parse(client, f"/championships/{GT4}/news.atom")
        return [e for e in feed.entries if "Spa-Francorchamps, Race 1" in e.title]

    published_at = dt.datetime(2023, 7, 2, 18, tzinfo=dt.UTC)
    with write(app, actor="test", now=published_at) as w:
        round_3 = w.session.scalar(select(Round).where(Round.number == 3))
        race = w.upsert_session(
            round_3, "race-1", {"name": "Race 1", "kind": "race", "local_date": dt.date(2023, 7, 1)}
        )
        w.set_results(race, "published", [{"entry": _entry(w), "position": 5}])
    [entry] = results_entries()
    assert entry.title == "Spa-Francorchamps, Race 1: results"
    assert entry.published_parsed[:4] == entry.updated_parsed[:4] == (2023, 7, 2, 18)
    first_id = entry.id

    corrected_at = dt.datetime(2023, 7, 3, 9, tzinfo=dt.UTC)
    with write(app, actor="test", now=corrected_at) as w:
        race = _session(w, 3, "race-1")
        w.set_results(
            race, "published", [{"entry": _entry(w), "position": 6, "note": "5 s penalty"}]
        )
    [entry] = results_entries()
    assert entry.id == first_id
    assert entry.published_parsed[:4] == (2023, 7, 2, 18)
    assert entry.updated_parsed[:4] == (2023, 7, 3, 9)
    assert "racing-one-backman: position 5 → 6" in entry.content[0].value


def test_moving_a_session_creates_one_schedule_entry(app, client) -> None:
    with write(app, actor="test") as w:
        round_3 = w.session.scalar(select(Round).where(Round.number == 3))
        w.upsert_session(
            round_3,
            "race-2",
            {
                "name": "Race 2",
                "kind": "race",
                "local_date": dt.date(2023, 7, 2),
                "local_time": dt.time(14, 0),
            },
        )
    _, before = _parse(client, f"/championships/{GT4}/news.atom")
    assert not [e for e in before.entries if "moved" in e.title]  # a new session is not news
    with write(app, actor="test", now=dt.datetime(2023, 6, 30, 8, tzinfo=dt.UTC)) as w:
        round_3 = w.session.scalar(select(Round).where(Round.number == 3))
        w.upsert_session(
            round_3,
            "race-2",
            {
                "name": "Race 2",
                "kind": "race",
                "local_date": dt.date(2023, 7, 2),
                "local_time": dt.time(15, 30),
            },
        )
    _, after = _parse(client, f"/championships/{GT4}/news.atom")
    moved = [e for e in after.entries if "moved" in e.title]
    assert [e.title for e in moved] == [
        "Spa-Francorchamps, Race 2 moved from Sun 2 July 14:00 to 15:30 CEST (13:30 UTC)"
    ]
    assert moved[0].link == f"http://localhost/championships/{GT4}/rounds/3#race-2"
    # The competitors entered in the championship see it too; another championship does not.
    _, hers = _parse(client, "/competitors/jessica-backman/news.rss")
    assert any(e.title == moved[0].title for e in hers.entries)
    _, adac = _parse(client, "/championships/adac-gt4-germany-2023/news.rss")
    assert not any("moved" in e.title for e in adac.entries)


def test_cancelling_a_round_is_news(app, client) -> None:
    with write(app, actor="test") as w:
        champ = w.session.scalar(select(Championship).where(Championship.slug == GT4))
        round_4 = w.session.scalar(
            select(Round).where(Round.championship == champ, Round.number == 4)
        )
        w.upsert_round(
            champ,
            4,
            {
                "circuit": round_4.circuit,
                "start_date": round_4.start_date,
                "end_date": round_4.end_date,
                "status": "cancelled",
            },
        )
    _, feed = _parse(client, f"/championships/{GT4}/news.rss")
    assert "GT4 European Series 2023 round 4 (Misano) cancelled" in [e.title for e in feed.entries]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unchanged_data_gives_identical_bytes_and_etag(app, client, fmt: str) -> None:
    url = f"/championships/{GT4}/news.{fmt}"
    first = client.get(url)
    # A write to another championship bumps the data version and re-renders this feed;
    # its bytes, ETag and Last-Modified must not change.
    with write(app, actor="test") as w:
        adac = w.session.scalar(
            select(Championship).where(Championship.slug == "adac-gt4-germany-2023")
        )
        w.upsert_championship(
            adac.slug,
            {
                "name": adac.name,
                "series": adac.series,
                "season": adac.season,
                "description": "Changed",
            },
        )
    second = client.get(url)
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["Last-Modified"] == second.headers["Last-Modified"]


def test_renaming_a_driver_moves_last_modified(app, client) -> None:
    url = "/competitors/jessica-backman/news.atom"
    first = client.get(url)
    with write(app, actor="test", now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)) as w:
        w.upsert_competitor(
            "jessica-backman", {"name": "Jessica Bäckman (SWE)", "country_code": None}
        )
    second = client.get(url)
    assert second.headers["ETag"] != first.headers["ETag"]
    # The bytes changed, so If-Modified-Since with the old date must not give a 304.
    assert second.headers["Last-Modified"] == "Tue, 01 Jan 2030 00:00:00 GMT"
    assert (
        client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code
        == 200
    )


def test_conditional_get_head_and_limit(client) -> None:
    first = client.get("/news.atom")
    etag = first.headers["ETag"]
    assert client.get("/news.atom", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get(
            "/news.atom", headers={"If-Modified-Since": first.headers["Last-Modified"]}
        ).status_code
        == 304
    )
    head = client.head("/news.atom")
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == etag
    assert "max-age=3600" in first.headers["Cache-Control"]
    _, limited = _parse(client, "/news.rss?limit=2")
    assert len(limited.entries) == 2


@pytest.mark.parametrize("bad", ("0", "501", "abc", "-1", "2.5"))
def test_bad_limit_is_a_400_naming_the_parameter(client, bad: str) -> None:
    response = client.get(f"/news.json?limit={bad}")
    assert response.status_code == 400
    assert response.content_type == "text/plain; charset=utf-8"
    assert "limit: must be a whole number from 1 to 500" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ("/championships/nope/news.rss", "/competitors/nope/news.atom", "/news.xml")
)
def test_unknown_feeds_are_404(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)
