"""A cold cache never renders a default feed inside a request: before the first complete
publication a default feed is a 503 with Retry-After, after it a missing one is a 404."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import vobject

from .conftest import make_app

GT4 = "gt4-european-series-2023"
DEFAULT_FEEDS = ("/calendar.ics", f"/championships/{GT4}/calendar.ics", "/news.atom")


def _stored_keys(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as db:
        return [key for (key,) in db.execute("SELECT key FROM published_feeds ORDER BY key")]


def test_default_feeds_are_503_until_the_first_publication_then_200(tmp_path: Path) -> None:
    db_path = tmp_path / "cold.sqlite3"
    app = make_app(db_path, PUBLISH_IN_PROCESS="0")
    client = app.test_client()
    for url in DEFAULT_FEEDS:
        for method in (client.get, client.head):
            cold = method(url)
            assert cold.status_code == 503, (url, cold.status_code)
            assert int(cold.headers["Retry-After"]) > 0, url
        text = client.get(url).get_data(as_text=True)
        assert text.count("\n") == 1 and text.endswith("\n") and "publish" in text, text
    # The 503s rendered nothing: the store holds no feed at all.
    assert _stored_keys(db_path) == []

    result = app.test_cli_runner().invoke(args=["publish"])
    assert result.exit_code == 0, result.output
    for url in DEFAULT_FEEDS:
        assert client.get(url).status_code == 200, url
    calendar = vobject.readOne(client.get("/calendar.ics").get_data(as_text=True))
    assert calendar.contents.get("vevent"), "the published calendar has events"
    assert client.get("/competitors/nobody/calendar.ics").status_code == 404


def test_after_the_first_publication_a_missing_default_feed_is_404_not_rendered(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "warm.sqlite3"
    make_app(db_path)  # the embedded default publishes everything at start
    gone = f"http://localhost/championships/{GT4}/calendar.ics"
    assert gone in _stored_keys(db_path)
    with sqlite3.connect(db_path) as db:
        db.execute("DELETE FROM published_feeds WHERE key = ?", (gone,))
    app = make_app(db_path, PUBLISH_IN_PROCESS="0", AUTO_SEED=False)
    assert app.test_client().get(f"/championships/{GT4}/calendar.ics").status_code == 404
    assert gone not in _stored_keys(db_path)
