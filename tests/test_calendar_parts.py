"""Calendars built by joining stored per-round parts are byte for byte the calendars the
full renderer builds, for every option a subscriber can ask for."""

from __future__ import annotations

import difflib
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from service.calendars.facts import CalendarMeta, CalendarOptions
from service.calendars.parts import compose, decode_part, encode_part, round_part
from service.calendars.render import render_calendar
from service.domain import queries
from service.domain.site import Site
from service.store.engine import get_store

from .conftest import make_app
from .notify_helpers import GT4
from .test_calendars import _build_world_tour
from .test_seasons import SeasonActions

SITE = Site("gridfeed.test", "http://localhost", 60)
OPTIONS = {
    "plain": CalendarOptions(),
    "races": CalendarOptions(include=frozenset({"race"})),
    "weekend-and-qualifying": CalendarOptions(include=frozenset({"weekend", "qualifying"})),
    "no-weekend": CalendarOptions(exclude=frozenset({"weekend"})),
    "nothing": CalendarOptions(include=frozenset({"race"}), exclude=frozenset({"race"})),
    "alarms": CalendarOptions(alarms=(0, 30, 1440)),
    "utc": CalendarOptions(utc=True),
    "everything": CalendarOptions(
        include=frozenset({"race", "practice", "weekend"}), alarms=(15,), utc=True
    ),
}


@pytest.fixture
def apps(tmp_path: Path, db_path: Path) -> list[Flask]:
    """The shipped data and the world tour (every zone edge the time tests use)."""
    tour = make_app(tmp_path / "tour.sqlite3", AUTO_SEED=False)
    _build_world_tour(tour)
    return [make_app(db_path, AUTO_SEED=False), tour]


@pytest.mark.parametrize("name", OPTIONS)
def test_a_calendar_joined_from_round_parts_is_the_rendered_calendar(
    apps: list[Flask], name: str
) -> None:
    options = OPTIONS[name]
    meta = CalendarMeta("A calendar", "Its description", "http://localhost/calendar.ics?x=1")
    compared = 0
    for app in apps:
        with app.app_context(), get_store(app).sessions() as session:
            rounds = [r for c in queries.all_championships(session) for r in c.rounds]
            competitors = [None, *queries.all_competitors(session)]
            for competitor in competitors:
                expected = render_calendar(meta, rounds, options, SITE, competitor)
                parts = [round_part(r, SITE, competitor) for r in rounds]
                assert compose(meta, SITE, parts, options) == expected
                # What a web process builds a variant from: the parts as stored.
                stored = [decode_part(encode_part(p)) for p in parts]
                assert compose(meta, SITE, stored, options) == expected
                compared += 1
    assert compared >= 3


# -- a publication after writes equals a publication from scratch --------------------------

VARIANTS = ("", "?alarm=30&tz=utc", "?include=race&include=weekend", "?exclude=practice")


def _from_scratch(db_path: Path, copy: Path) -> Flask:
    """An app on a copy of the store with nothing published and no parts kept: it publishes
    everything at start, rendering every round anew."""
    # The backup API, not a file copy: committed writes may still be in the WAL file.
    with sqlite3.connect(db_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as db:
        for table in ("calendar_parts", "published_feeds", "publish_state", "publish_jobs"):
            db.execute(f"DELETE FROM {table}")
    return make_app(copy, AUTO_SEED=False)


def _calendar_paths(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM published_feeds")]
    paths = {urlsplit(k).path for k in keys if urlsplit(k).path.endswith(".ics")}
    return sorted(paths)


def _first_difference(got: object, expected: object) -> list[str]:
    ours = got.data.decode().splitlines()  # type: ignore[attr-defined]
    theirs = expected.data.decode().splitlines()  # type: ignore[attr-defined]
    return list(difflib.unified_diff(theirs, ours, lineterm="", n=1))[:12]


def _assert_same_calendars(app: Flask, db_path: Path, tmp_path: Path, step: str) -> None:
    fresh = _from_scratch(db_path, tmp_path / f"fresh-{step}.sqlite3")
    ours, theirs = app.test_client(), fresh.test_client()
    paths = _calendar_paths(tmp_path / f"fresh-{step}.sqlite3")
    assert len(paths) >= 8, paths
    for path in paths:
        for query in VARIANTS:
            expected = theirs.get(path + query)
            got = ours.get(path + query)
            assert expected.status_code == got.status_code == 200, (step, path + query)
            assert got.data == expected.data, (step, path + query, _first_difference(got, expected))


def test_after_each_kind_of_write_calendars_equal_a_publication_from_scratch(
    app: Flask, db_path: Path, token: str, tmp_path: Path
) -> None:
    """Only rounds whose stamp moved are rendered again: whatever a write changes (a session,
    results, a round, a championship, a circuit, a team, a driver, an entry), every calendar
    and variant served afterwards is what rendering everything anew gives."""
    season = SeasonActions(app.test_client(), token)
    round_2 = f"/championships/{GT4}/rounds/2"
    _assert_same_calendars(app, db_path, tmp_path, "start")  # and the variants are stored now
    writes = {
        "session": lambda: season.patch(f"{round_2}/sessions/race-1", {"local_time": "15:05"}),
        "new-session": lambda: season.post(
            f"{round_2}/sessions",
            {"slug": "warm-up", "name": "Warm-up", "kind": "practice", "local_date": "2023-06-04"},
        ),
        "round": lambda: season.patch(round_2, {"status": "provisional"}),
        "championship": lambda: season.patch(f"/championships/{GT4}", {"name": "GT4 Renamed"}),
        "circuit": lambda: season.patch("/circuits/paul-ricard", {"name": "Le Castellet"}),
        "team": lambda: season.patch("/teams/racing-one", {"name": "Racing Two"}),
        "entry": lambda: season.patch(
            f"/championships/{GT4}/entries/racing-one-backman", {"car": "A renamed car"}
        ),
        "driver": lambda: season.patch("/competitors/jessica-backman", {"name": "Jess B."}),
        "results": lambda: season.client.put(
            f"/api/v1{round_2}/sessions/race-1/results",
            json={"status": "withdrawn", "lines": []},
            headers={
                "Authorization": f"Bearer {token}",
                "If-Match": season.client.get(f"/api/v1{round_2}/sessions/race-1/results").headers[
                    "ETag"
                ],
            },
        ),
    }
    for step, action in writes.items():
        response = action()
        assert getattr(response, "status_code", 200) < 300, (step, response)
        _assert_same_calendars(app, db_path, tmp_path, step)
