"""iCal feeds through HTTP, read back with parsers other than the one that wrote them
(vobject and the ``ics`` package)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import ics
import pytest
import vobject
from flask import Flask
from sqlalchemy import select

from service.calendars.encoding import event_component, event_ical
from service.calendars.facts import CalendarOptions, feed_facts
from service.domain import queries
from service.domain.models import Championship, Round, Session
from service.domain.site import Site
from service.store.engine import get_store
from service.writes import write

from .conftest import make_app
from .helpers import cache_directives, fresh_vobject

UTC = dt.UTC
CHAMP = "world-tour-2024"
# (circuit zone, local day, local time, minutes) -> the instants every parser must agree on.
TIMETABLE = {
    "paris-summer": ("Europe/Paris", "2024-06-15", "14:00", 60, "2024-06-15T12:00", 60),
    "paris-winter": ("Europe/Paris", "2024-01-20", "10:00", 45, "2024-01-20T09:00", 45),
    # 31 March 2024: clocks go from 02:00 CET to 03:00 CEST. 01:30 CET is 00:30Z; an hour
    # later it is 03:30 CEST, so the end is 01:30Z.
    "paris-dst-day": ("Europe/Paris", "2024-03-31", "01:30", 60, "2024-03-31T00:30", 60),
    "paris-dst-afternoon": ("Europe/Paris", "2024-03-31", "14:00", 30, "2024-03-31T12:00", 30),
    "melbourne-summer": ("Australia/Melbourne", "2024-03-02", "14:00", 60, "2024-03-02T03:00", 60),
    "melbourne-winter": ("Australia/Melbourne", "2024-07-06", "14:00", 60, "2024-07-06T04:00", 60),
    "new-york-summer": ("America/New_York", "2024-07-04", "19:30", 90, "2024-07-04T23:30", 90),
    "new-york-winter": ("America/New_York", "2024-12-01", "12:00", 60, "2024-12-01T17:00", 60),
    "tokyo": ("Asia/Tokyo", "2024-04-07", "14:00", 60, "2024-04-07T05:00", 60),
    "sao-paulo": ("America/Sao_Paulo", "2024-11-03", "14:00", 60, "2024-11-03T17:00", 60),
    "kolkata": ("Asia/Kolkata", "2024-09-22", "15:30", 40, "2024-09-22T10:00", 40),
}


def _expected(slug: str) -> tuple[dt.datetime, dt.datetime]:
    *_, start, minutes = TIMETABLE[slug]
    begin = dt.datetime.fromisoformat(start).replace(tzinfo=UTC)
    return begin, begin + dt.timedelta(minutes=minutes)


def _build_world_tour(app: Flask, name: str = "World Tour 2024") -> None:
    """One round per timetable line, each at a circuit in the line's zone."""
    with write(app, actor="test") as w:
        champ = w.upsert_championship(
            CHAMP,
            {"name": name, "series": "World Tour", "season": 2024, "short_name": None},
        )
        for number, (slug, (zone, day, time, minutes, _, _)) in enumerate(
            TIMETABLE.items(), start=1
        ):
            circuit = w.upsert_circuit(
                f"circuit-{slug}",
                {
                    "name": f"Circuit {slug}",
                    "locality": zone.split("/")[-1],
                    "country_code": "XX",
                    "timezone": zone,
                    "latitude": 10.5,
                    "longitude": -20.25,
                },
            )
            date = dt.date.fromisoformat(day)
            round_ = w.upsert_round(
                champ,
                number,
                {"circuit": circuit, "start_date": date, "end_date": date, "status": "scheduled"},
            )
            w.upsert_session(
                round_,
                slug,
                {
                    "name": f"Race {slug}",
                    "kind": "race",
                    "local_date": date,
                    "local_time": dt.time.fromisoformat(time),
                    "duration_minutes": minutes,
                },
            )


@pytest.fixture
def tour_app(tmp_path: Path) -> Flask:
    """The world tour timetable; the data version is read on every request, so a write is
    seen at once (production rechecks it at most every second)."""
    app = make_app(tmp_path / "tour.sqlite3", AUTO_SEED=False, FEED_VERSION_RECHECK_SECONDS=0)
    _build_world_tour(app)
    return app


def _vobject(body: bytes) -> vobject.base.Component:
    # Read as a new process would: an earlier test's VTIMEZONE for the same TZID must not be
    # the one used (vobject keeps the first it sees for the whole process).
    return fresh_vobject(body.decode("utf-8"))


def _session_events(cal: vobject.base.Component) -> dict[str, vobject.base.Component]:
    """VEVENTs by session slug (the last part of the UID before the domain)."""
    events = {}
    for event in cal.contents.get("vevent", []):
        parts = event.uid.value.split("@")[0].split(".")
        if len(parts) == 3:
            events[parts[2]] = event
    return events


def _edit_session(app: Flask, slug: str, number: int, changes: dict) -> None:
    with get_store(app).sessions() as s:
        session = s.scalar(
            select(Session)
            .join(Round)
            .join(Championship)
            .where(Championship.slug == CHAMP, Round.number == number, Session.slug == slug)
        )
        fields = {
            "name": session.name,
            "kind": session.kind,
            "local_date": session.local_date,
            "local_time": session.local_time,
            "duration_minutes": session.duration_minutes,
            "status": session.status,
            **changes,
        }
    with write(app, actor="test") as w:
        champ = w.session.scalar(select(Championship).where(Championship.slug == CHAMP))
        round_ = next(r for r in champ.rounds if r.number == number)
        w.upsert_session(round_, slug, fields)


# -- instants --------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?tz=utc"])
def test_every_start_and_end_is_the_right_instant_in_vobject(tour_app: Flask, query: str) -> None:
    body = tour_app.test_client().get(f"/championships/{CHAMP}/calendar.ics{query}").data
    events = _session_events(_vobject(body))
    assert set(events) == set(TIMETABLE)
    for slug, event in events.items():
        start, end = event.dtstart.value, event.dtend.value
        assert start.tzinfo is not None and end.tzinfo is not None, slug  # never floating
        assert (start.astimezone(UTC), end.astimezone(UTC)) == _expected(slug), slug


def test_the_vtimezones_alone_give_the_right_instants(tour_app: Flask) -> None:
    """vobject resolves a known TZID by name, so read each VTIMEZONE's own rules (through
    vobject's ``gettzinfo``) and apply them to the events' wall times."""
    body = tour_app.test_client().get(f"/championships/{CHAMP}/calendar.ics").data
    cal = _vobject(body)
    rules = {tz.tzid.value: tz.gettzinfo() for tz in cal.contents["vtimezone"]}
    for slug, event in _session_events(cal).items():
        tzid = TIMETABLE[slug][0]  # the circuit's zone (vobject drops the TZID parameter)
        got = tuple(
            value.replace(tzinfo=None).replace(tzinfo=rules[tzid]).astimezone(UTC)
            for value in (event.dtstart.value, event.dtend.value)
        )
        assert got == _expected(slug), slug


def test_every_start_and_end_is_the_right_instant_in_ics(tour_app: Flask) -> None:
    body = tour_app.test_client().get(f"/championships/{CHAMP}/calendar.ics").data
    calendar = ics.Calendar(body.decode("utf-8"))
    seen = set()
    for event in calendar.events:
        slug = event.uid.split("@")[0].split(".")[-1]
        if slug not in TIMETABLE:
            continue
        seen.add(slug)
        got = (event.begin.datetime.astimezone(UTC), event.end.datetime.astimezone(UTC))
        assert got == _expected(slug), slug
    assert seen == set(TIMETABLE)


def test_timed_sessions_carry_the_circuit_zone_and_outlook_shaped_vtimezones(
    tour_app: Flask,
) -> None:
    text = tour_app.test_client().get(f"/championships/{CHAMP}/calendar.ics").get_data(True)
    assert "X-WR-TIMEZONE" not in text
    assert "RDATE" not in text
    assert "DTSTART;TZID=Asia/Kolkata:20240922T153000" in text
    cal = _vobject(text.encode())
    zones = {tz.tzid.value: tz for tz in cal.contents["vtimezone"]}
    assert set(zones) == {zone for zone, *_ in TIMETABLE.values()}
    for name, tz in zones.items():
        standard = tz.contents.get("standard", [])
        daylight = tz.contents.get("daylight", [])
        assert len(standard) == 1 and len(daylight) <= 1, name
        if daylight:
            assert "rrule" in standard[0].contents and "rrule" in daylight[0].contents, name
    assert not zones["Asia/Kolkata"].contents.get("daylight")
    assert "BYMONTH=3" in zones["Europe/Paris"].contents["daylight"][0].rrule.value.split(";")
    assert "BYDAY=-1SU" in zones["Europe/Paris"].contents["daylight"][0].rrule.value.split(";")


# -- updates in place ------------------------------------------------------------------


def test_changing_a_time_keeps_the_uid_and_raises_sequence(tour_app: Flask) -> None:
    client = tour_app.test_client()
    url = f"/championships/{CHAMP}/calendar.ics"
    before = _session_events(_vobject(client.get(url).data))["tokyo"]
    _edit_session(tour_app, "tokyo", 9, {"local_time": dt.time(15, 0)})
    after_body = client.get(url).data
    after = _session_events(_vobject(after_body))["tokyo"]
    assert after.uid.value == before.uid.value
    assert int(after.sequence.value) > int(before.sequence.value)
    assert after.dtstart.value.astimezone(UTC) == dt.datetime(2024, 4, 7, 6, 0, tzinfo=UTC)
    assert after.last_modified.value >= before.last_modified.value


def test_a_one_session_change_leaves_every_other_event_byte_identical(tour_app: Flask) -> None:
    client = tour_app.test_client()
    url = f"/championships/{CHAMP}/calendar.ics"
    split = re.compile(rb"BEGIN:VEVENT.*?END:VEVENT\r\n", re.S)
    before = split.findall(client.get(url).data)
    _edit_session(tour_app, "kolkata", 11, {"local_time": dt.time(16, 0)})
    after = split.findall(client.get(url).data)
    changed = [b for b, a in zip(before, after, strict=True) if a != b]
    assert len(after) == len(before) and len(changed) == 2  # the session and its round
    assert all(b"kolkata" in c for c in changed)


def test_cancelled_sessions_stay_with_status_cancelled(tour_app: Flask) -> None:
    _edit_session(tour_app, "tokyo", 9, {"status": "cancelled"})
    _edit_session(tour_app, "sao-paulo", 10, {"status": "postponed"})
    body = tour_app.test_client().get(f"/championships/{CHAMP}/calendar.ics").data
    events = _session_events(_vobject(body))
    assert events["tokyo"].status.value == "CANCELLED"
    assert "CANCELLED" in events["tokyo"].summary.value
    assert events["sao-paulo"].status.value == "CANCELLED"
    assert "POSTPONED" in events["sao-paulo"].summary.value


def test_unchanged_data_gives_byte_identical_output(db_path: Path, tmp_path: Path) -> None:
    bodies = []
    for _ in range(2):  # two apps: no shared cache, same data
        client = make_app(db_path, AUTO_SEED=False).test_client()
        response = client.get("/competitors/andreas-backman/calendar.ics")
        bodies.append((response.data, response.headers["ETag"]))
    assert bodies[0] == bodies[1]


# -- the seed: Paul Ricard, time TBC and the siblings' results ---------------------------


def _paul_ricard(client, competitor: str) -> dict[str, vobject.base.Component]:
    body = client.get(f"/competitors/{competitor}/calendar.ics").data
    return {
        e.uid.value.split("@")[0]: e
        for e in _vobject(body).contents["vevent"]
        if e.uid.value.startswith("gt4-european-series-2023.2")
    }


def test_paul_ricard_shows_each_siblings_own_results_first(client) -> None:
    andreas = _paul_ricard(client, "andreas-backman")
    jessica = _paul_ricard(client, "jessica-backman")
    race_1 = "gt4-european-series-2023.2.race-1"
    for events in (andreas, jessica):
        description = events[race_1].description.value
        assert description.index("Race 1: DNF, retired on lap 1") < description.index("Results:")
    assert (
        "Timed Qualifying 2: P13"
        in andreas["gt4-european-series-2023.2.qualifying-2"].description.value
    )
    assert (
        "Timed Qualifying 1: P42"
        in jessica["gt4-european-series-2023.2.qualifying-1"].description.value
    )
    assert (
        "Timed Qualifying 1: P42"
        not in andreas["gt4-european-series-2023.2.qualifying-1"].description.value
    )


def test_day_without_time_is_a_tentative_all_day_entry_with_the_rough_time(client) -> None:
    events = _paul_ricard(client, "andreas-backman")
    qualifying = events["gt4-european-series-2023.2.qualifying-1"]
    assert qualifying.dtstart.value == dt.date(2023, 6, 3)
    assert qualifying.dtend.value == dt.date(2023, 6, 4)
    assert qualifying.status.value == "TENTATIVE"
    assert "(time TBC, morning)" in qualifying.summary.value
    # Sessions with no day are only listed in the round's all-day event.
    assert "gt4-european-series-2023.2.race-2" not in events
    weekend = events["gt4-european-series-2023.2"]
    assert weekend.dtstart.value == dt.date(2023, 6, 2)
    assert weekend.dtend.value == dt.date(2023, 6, 5)  # exclusive
    assert "Race 2: date and time TBC" in weekend.description.value
    assert "Circuit Paul Ricard" in weekend.location.value
    assert weekend.url.value.endswith("/championships/gt4-european-series-2023/rounds/2")
    assert weekend.geo.value


# -- options ---------------------------------------------------------------------------

URLS = (
    "/calendar.ics",
    "/championships/gt4-european-series-2023/calendar.ics",
    "/competitors/jessica-backman/calendar.ics",
    "/championships/gt4-european-series-2023/rounds/2.ics",
)
INCLUDES = (None, "race", "qualifying,weekend", "test")
EXCLUDES = (None, "weekend", "practice,other")
ALARMS = ((), ("0",), ("30", "1440"))
ZONES = (None, "utc")


def _query(include, exclude, alarms, tz) -> str:
    parts = [f"include={include}"] if include else []
    parts += [f"exclude={exclude}"] if exclude else []
    parts += [f"alarm={a}" for a in alarms]
    parts += ["tz=utc"] if tz else []
    return "?" + "&".join(parts) if parts else ""


def test_every_option_combination_parses(client) -> None:
    for url in URLS:
        for include, exclude, alarms, tz in itertools.product(INCLUDES, EXCLUDES, ALARMS, ZONES):
            response = client.get(url + _query(include, exclude, alarms, tz))
            assert response.status_code == 200, (url, include, exclude, alarms, tz)
            text = response.get_data(as_text=True)
            cal = _vobject(response.data)
            ics.Calendar(text)
            wanted = set((include or "practice,qualifying,race,test,other,weekend").split(","))
            wanted -= set((exclude or "").split(","))
            for category in (c for e in cal.contents.get("vevent", []) for c in e.categories.value):
                if category in {"Practice", "Qualifying", "Race", "Test", "Other", "Weekend"}:
                    assert category.lower() in wanted
            triggers = re.findall(r"TRIGGER:(.*)\r\n", text)
            assert len({t for t in triggers}) <= len(alarms)


def test_a_filter_matching_nothing_is_still_a_valid_calendar(client) -> None:
    response = client.get("/calendar.ics?include=test")
    assert response.status_code == 200
    cal = _vobject(response.data)
    assert "vevent" not in cal.contents
    assert list(ics.Calendar(response.get_data(as_text=True)).events) == []


def test_alarms_are_display_valarms_on_timed_sessions(tour_app: Flask) -> None:
    body = tour_app.test_client().get(f"/championships/{CHAMP}/calendar.ics?alarm=30&alarm=1440")
    event = _session_events(_vobject(body.data))["tokyo"]
    alarms = event.contents["valarm"]
    assert sorted(a.trigger.value for a in alarms) == [
        dt.timedelta(minutes=-1440),
        dt.timedelta(minutes=-30),
    ]
    assert all(a.action.value == "DISPLAY" and a.description.value for a in alarms)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("alarm=abc", "alarm"),
        ("alarm=-5", "alarm"),
        ("alarm=10081", "alarm"),
        ("include=nonsense", "include"),
        ("exclude=race,bogus", "exclude"),
        ("include=", "include"),
        ("tz=Europe/Paris", "tz"),
    ],
)
def test_bad_options_are_a_400_naming_the_parameter(client, query: str, parameter: str) -> None:
    for url in URLS:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400
        assert response.content_type.startswith("text/plain")
        text = response.get_data(as_text=True)
        assert text.count("\n") == 1 and f"{parameter}:" in text


@pytest.mark.parametrize(
    "url",
    [
        "/championships/no-such-series/calendar.ics",
        "/competitors/nobody/calendar.ics",
        "/championships/gt4-european-series-2023/rounds/99.ics",
        "/championships/no-such-series/rounds/1.ics",
        "/championships/gt4-european-series-2023/rounds/one.ics",
    ],
)
def test_unknown_slugs_and_rounds_are_404(client, url: str) -> None:
    for _ in range(2):  # the second answer comes from the cache
        response = client.get(url)
        assert response.status_code == 404
        assert response.content_type.startswith("text/plain")


# -- HTTP ------------------------------------------------------------------------------


def test_headers_conditional_get_and_head(client) -> None:
    url = "/championships/gt4-european-series-2023/calendar.ics"
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert cache_directives(first) == {
        "public": None,
        "max-age": "3600",
        "stale-while-revalidate": "300",
        "stale-if-error": "86400",
    }
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "gt4-european-series-2023.ics" in first.headers["Content-Disposition"]
    assert first.headers["Link"] == (
        f'<http://localhost{url}>; rel="self", <http://localhost/websub>; rel="hub"'
    )
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    head = client.head(url)
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == etag


def test_refresh_interval_follows_configuration(db_path: Path) -> None:
    app = make_app(db_path, AUTO_SEED=False, FEED_REFRESH_MINUTES=90)
    response = app.test_client().get("/calendar.ics")
    assert cache_directives(response)["max-age"] == "5400"
    cal = _vobject(response.data)
    assert cal.contents["refresh-interval"][0].value == "PT1H30M"
    assert cal.contents["x-published-ttl"][0].value == "PT1H30M"
    assert cal.contents["refresh-interval"][0].params["VALUE"] == ["DURATION"]


def test_text_is_escaped_and_folded(empty_app: Flask) -> None:
    name = "Bäckman Cup, Season; One \\ Two\nSecond line"
    _build_world_tour(empty_app, name=name)
    response = empty_app.test_client().get(f"/championships/{CHAMP}/calendar.ics")
    assert response.status_code == 200
    assert all(len(line) <= 75 for line in response.data.split(b"\r\n"))
    cal = _vobject(response.data)
    assert cal.contents["x-wr-calname"][0].value == name
    assert cal.contents["name"][0].value == name
    assert name in cal.contents["x-wr-caldesc"][0].value
    parsed = ics.Calendar(response.get_data(as_text=True))
    assert any(name in event.name for event in parsed.events)
    event = _session_events(cal)["tokyo"]
    assert event.summary.value.startswith(name)
    assert name in event.categories.value


def test_links_use_the_public_base_url_and_canonical_options(db_path: Path) -> None:
    app = make_app(db_path, AUTO_SEED=False, PUBLIC_BASE_URL="https://feeds.example.org")
    client = app.test_client()
    response = client.get("/calendar.ics?alarm=30&include=race,weekend")
    canonical = "https://feeds.example.org/calendar.ics?include=race&include=weekend&alarm=30"
    assert response.headers["Link"] == (
        f'<{canonical}>; rel="self", <https://feeds.example.org/websub>; rel="hub"'
    )
    cal = _vobject(response.data)
    assert cal.contents["source"][0].value == canonical
    urls = {e.url.value for e in cal.contents["vevent"]}
    assert "https://feeds.example.org/championships/gt4-european-series-2023/rounds/2" in urls
    # The same options in another order are the same feed: same bytes, same ETag.
    again = client.get("/calendar.ics?include=weekend,race&alarm=30")
    assert again.data == response.data and again.headers["ETag"] == response.headers["ETag"]


def test_renaming_a_driver_moves_the_competitor_calendars_last_modified(app: Flask) -> None:
    client = app.test_client()
    url = "/competitors/jessica-backman/calendar.ics"
    first = client.get(url)
    with write(app, actor="test", now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)) as w:
        w.upsert_competitor("jessica-backman", {"name": "J. Bäckman", "country_code": None})
    second = client.get(url)
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.headers["Last-Modified"] == "Tue, 01 Jan 2030 00:00:00 GMT"
    stale = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert stale.status_code == 200


@pytest.mark.parametrize(
    "options",
    [CalendarOptions(), CalendarOptions(alarms=(0, 30)), CalendarOptions(alarms=(15,), utc=True)],
    ids=["plain", "alarms", "alarms-utc"],
)
def test_every_event_is_encoded_as_icalendar_itself_would(
    tour_app: Flask, db_path: Path, options: CalendarOptions
) -> None:
    """The renderer writes content lines without building icalendar's component tree; the
    speed must not come from a different serialisation: each event's lines are exactly the
    ones ``icalendar.Event.to_ical()`` writes for the same facts."""
    site = Site("gridfeed.test", "http://localhost", 60)
    seeded = make_app(db_path, AUTO_SEED=False)
    for app in (tour_app, seeded):
        with app.app_context(), get_store(app).sessions() as session:
            rounds = [r for c in queries.all_championships(session) for r in c.rounds]
            competitor = queries.competitor_by_slug(session, "andreas-backman")
            facts = feed_facts(rounds, options, site, competitor)
            assert facts
            for event in facts:
                ours = event_ical(event).split(b"\r\n")
                theirs = event_component(event).to_ical().split(b"\r\n")
                # Same content lines (encoded, escaped and folded alike); order may differ.
                assert sorted(ours) == sorted(theirs), event.uid


def _facts_of(app: Flask, slug: str, options: CalendarOptions) -> dict[str, object]:
    """Every event's facts in the championship calendar, by UID."""
    site = Site("gridfeed.test", "http://localhost", 60)
    with app.app_context(), get_store(app).sessions() as session:
        rounds = queries.championship_by_slug(session, slug).rounds
        return {f.uid: f for f in feed_facts(rounds, options, site)}


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Race Tokyo (renamed)"},
        {"local_time": dt.time(15, 0)},
        {"duration_minutes": 61},
        {"status": "cancelled"},
        {"time_note": "afternoon", "local_time": None},
    ],
    ids=["name", "time", "duration", "status", "time-note"],
)
def test_the_fragment_key_changes_with_every_fact_an_event_shows(
    tour_app: Flask, changes: dict
) -> None:
    """A fragment is cached under its ``EventFacts`` value: any change a write makes to what
    the session shows gives new facts for it (so a new cache key), and leaves every other
    session's facts (so its cached bytes) as they were."""
    options = CalendarOptions(alarms=(30,))
    before = _facts_of(tour_app, CHAMP, options)
    _edit_session(tour_app, "tokyo", 9, changes)
    after = _facts_of(tour_app, CHAMP, options)
    uid = f"{CHAMP}.9.tokyo@gridfeed.test"
    assert after[uid] != before[uid]
    changed = {u for u in after if after[u] != before.get(u)}
    # The session itself and its round's all-day event (which lists the session) only.
    assert changed == {uid, f"{CHAMP}.9@gridfeed.test"}
