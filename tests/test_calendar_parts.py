"""Calendars built by joining stored per-round parts are byte for byte the calendars the
full renderer builds, for every option a subscriber can ask for."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from service.calendars.facts import CalendarMeta, CalendarOptions
from service.calendars.parts import compose, decode_part, encode_part, round_part
from service.calendars.render import render_calendar
from service.domain import queries
from service.domain.site import Site
from service.store.engine import get_store

from .conftest import make_app
from .test_calendars import _build_world_tour

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
