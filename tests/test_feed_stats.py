"""Subscriber counts end to end: feed requests through the app, the worker's flush and
day closing, the stats API and ``flask stats``. Checked in the database file itself that no
address or user agent is kept, and with an engine listener that a feed request writes
nothing."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from service.notify.worker import Worker
from service.store.engine import get_store

from .conftest import new_token

GT4 = "gt4-european-series-2023"
ADAC = "adac-gt4-germany-2023"
CALENDAR = f"/championships/{GT4}/calendar.ics"
NEWS = f"/championships/{GT4}/news.rss"
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.0"
FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {} subscribers; )"
ADDRESS = "203.0.113.77"


def fetch(client, path: str, agent: str, address: str = ADDRESS, **headers: str):
    response = client.get(
        path, headers={"User-Agent": agent, **headers}, environ_base={"REMOTE_ADDR": address}
    )
    assert response.status_code in {200, 304}
    return response


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def stats(client, token: str, **query: str) -> list[dict]:
    response = client.get(
        "/api/v1/stats/feeds", query_string=query, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


def row_for(items: list[dict], feed: str) -> dict:
    (row,) = [i for i in items if i["feed"] == feed]
    return row


def test_distinct_fetchers_options_folded_and_aggregators_as_reported(app, client, token) -> None:
    first = fetch(client, CALENDAR, THUNDERBIRD)
    fetch(client, CALENDAR, THUNDERBIRD)  # the same app again: still one
    fetch(client, CALENDAR, THUNDERBIRD, **{"If-None-Match": first.headers["ETag"]})  # a 304
    fetch(client, f"{CALENDAR}?include=race&alarm=30", THUNDERBIRD, address="198.51.100.4")
    fetch(client, CALENDAR, "iOS/17.1 (21B80) dataaccessd/1.0")  # same address, other app
    fetch(client, CALENDAR, FEEDLY.format(120), address="192.0.2.1")
    fetch(client, CALENDAR, FEEDLY.format(123), address="192.0.2.2")  # the most it reported
    fetch(client, CALENDAR, "Google-Calendar-Importer", address="192.0.2.9")
    fetch(client, NEWS, THUNDERBIRD)
    Worker(app).run_once()  # the worker flushes
    items = stats(client, token, championship=GT4)
    calendar = row_for(items, CALENDAR)
    assert calendar["day"] == today().isoformat()
    assert calendar["championship"] == GT4
    assert calendar["direct"] == 3
    assert calendar["aggregators"] == 2
    assert calendar["aggregator_subscribers"] == 123 + 1
    assert calendar["total"] == 3 + 124
    assert row_for(items, NEWS)["total"] == 1
    # A second flush adds nothing already counted; a new fetcher adds one.
    fetch(client, CALENDAR, THUNDERBIRD)
    fetch(client, CALENDAR, THUNDERBIRD, address="198.51.100.200")
    Worker(app).run_once()
    assert row_for(stats(client, token, championship=GT4), CALENDAR)["direct"] == 4


def test_no_address_or_user_agent_is_stored_and_the_salt_goes_with_the_day(
    app, client, token, db_path: Path
) -> None:
    agent = "QuiteUniqueReader/9.9 (fingerprint-me)"
    fetch(client, CALENDAR, agent, address="203.0.113.250")
    worker = Worker(app)
    worker.run_once()
    get_store(app).engine.dispose()
    raw = db_path.read_bytes() + (
        db_path.with_name(db_path.name + "-wal").read_bytes()
        if db_path.with_name(db_path.name + "-wal").exists()
        else b""
    )
    assert b"203.0.113.250" not in raw and b"QuiteUniqueReader" not in raw
    with sqlite3.connect(db_path) as db:
        assert db.execute("select count(*) from feed_fetchers").fetchone()[0] == 1
        assert db.execute(
            "select count(*) from stats_salts where day = ?", [str(today())]
        ).fetchone()
    # The next day: the worker closes today, keeping only the count.
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    Worker(app, clock=lambda: tomorrow).housekeeping()
    with sqlite3.connect(db_path) as db:
        assert (
            db.execute(
                "select count(*) from feed_fetchers where day < ?", [str(tomorrow.date())]
            ).fetchone()[0]
            == 0
        )
        days = [r[0] for r in db.execute("select day from stats_salts")]
        assert str(today()) not in days
    assert row_for(stats(client, token, championship=GT4), CALENDAR)["direct"] == 1


def test_a_feed_request_writes_nothing_to_the_database(app, client) -> None:
    fetch(client, CALENDAR, THUNDERBIRD)
    Worker(app).run_once()  # salts loaded ahead, as the flusher does
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    engine = get_store(app).engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for n in range(5):
            fetch(client, CALENDAR, THUNDERBIRD, address=f"198.51.100.{n}")
            fetch(client, NEWS, FEEDLY.format(n + 1))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements), statements


def test_counting_off_counts_nothing(db_path: Path) -> None:
    from .conftest import make_app

    app = make_app(db_path, AUTO_SEED=False, STATS_ENABLED=False)
    client, token = app.test_client(), new_token(app)
    fetch(client, CALENDAR, THUNDERBIRD)
    Worker(app).run_once()
    assert stats(client, token) == []


def test_the_stats_api_needs_the_stats_permission_and_scope(app, client) -> None:
    fetch(client, CALENDAR, THUNDERBIRD)
    fetch(client, f"/championships/{ADAC}/calendar.ics", THUNDERBIRD)
    Worker(app).run_once()
    assert client.get("/api/v1/stats/feeds").status_code == 401
    webhooks_only = new_token(app, "--permission", "webhooks", name="hooks")
    response = client.get(
        "/api/v1/stats/feeds", headers={"Authorization": f"Bearer {webhooks_only}"}
    )
    assert response.status_code == 403
    scoped = new_token(app, "--permission", "stats", "--championship", GT4, name="gt4")
    assert {i["championship"] for i in stats(client, scoped, championship=GT4)} == {GT4}
    for query in ({"championship": ADAC}, {}):
        response = client.get(
            "/api/v1/stats/feeds", query_string=query, headers={"Authorization": f"Bearer {scoped}"}
        )
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"championship": "Not A Slug"}, "championship"),
    ],
)
def test_bad_stats_queries_are_400_naming_the_parameter(client, token, query, named) -> None:
    response = client.get(
        "/api/v1/stats/feeds", query_string=query, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400, response.json
    assert named in response.json["detail"]


def test_flask_stats_prints_the_table(app, client, runner) -> None:
    fetch(client, CALENDAR, THUNDERBIRD)
    fetch(client, CALENDAR, FEEDLY.format(41))
    result = runner.invoke(args=["stats", "--championship", GT4])
    assert result.exit_code == 0, result.output
    header, line = result.output.splitlines()
    assert header.split()[:3] == ["day", "feed", "direct"]
    assert line.split() == [today().isoformat(), CALENDAR, "1", "1", "41", "42"]


def test_the_stats_chart_is_an_svg_bar_per_day(app, client, token) -> None:
    from xml.etree import ElementTree as ET

    fetch(client, CALENDAR, THUNDERBIRD)
    fetch(client, CALENDAR, FEEDLY.format(9))
    Worker(app).run_once()
    start = today() - dt.timedelta(days=6)
    response = client.get(
        "/api/v1/stats/feeds.svg",
        query_string={"championship": GT4, "from": start.isoformat()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = ET.fromstring(response.data)
    bars = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert [b.get("data-day") for b in bars] == [
        (start + dt.timedelta(days=n)).isoformat() for n in range(7)
    ]
    assert [b.get("data-value") for b in bars] == ["0"] * 6 + ["10"]
    assert float(bars[-1].get("height")) > 0 and float(bars[0].get("height")) == 0
    assert client.get("/api/v1/stats/feeds.svg").status_code == 401
