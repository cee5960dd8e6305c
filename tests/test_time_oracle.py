"""The time oracle: every session of every calendar at ``zoneinfo``'s instant, in three readers.

For real zones whose rules changed in the last ten years (and every zone with a circuit in
``data/circuits.yaml``), years 2015 to 2030: a summer and a winter session, a session on each
change day before and after the change, and the first and second occurrence of a repeated
time. They go in through the data-file importer and come out through HTTP, one championship
(a calendar spanning all sixteen years) per zone, then are read by icalendar, vobject and
``ics``:

- as served (a reader may resolve a known TZID by name from its own zone database);
- with every TZID renamed to one no database knows, so the reader must use the file's own
  VTIMEZONE: this is what shows whether the VTIMEZONE is true for the whole span;
- with ``tz=utc``.

Hypothesis then draws more zones from ``zoneinfo.available_timezones()`` and instants in the
span, and checks the VTIMEZONE's offset against zoneinfo's at each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import icalendar
import ics
import pytest
import vobject
import yaml
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.calendars.vtimezones import vtimezone_ical

from .conftest import DATA_DIR, make_app
from .helpers import fresh_vobject

UTC = dt.UTC
YEARS = range(2015, 2031)
CORE_ZONES = (
    "Europe/Paris",
    "Australia/Melbourne",
    "America/Sao_Paulo",  # daylight time dropped in 2019
    "America/Indiana/Indianapolis",
    "Asia/Tokyo",
    "Asia/Kolkata",
)
MORE_ZONES = (
    "America/Santiago",  # rules changed in 2016, 2019 and 2022
    "America/Mexico_City",  # daylight time dropped in 2022
    "Asia/Tehran",  # fixed-date rules, dropped in 2022
    "Africa/Casablanca",  # +01 since 2018, back an hour each Ramadan
    "Australia/Lord_Howe",  # a 30-minute change
    "Europe/Dublin",  # winter is the "daylight" time in the source data
    "America/St_Johns",  # a -03:30 zone
)
CIRCUIT_ZONES = tuple(
    sorted(
        {
            c["timezone"]
            for c in yaml.safe_load((DATA_DIR / "circuits.yaml").read_text())["circuits"]
        }
    )
)
ZONES = tuple(dict.fromkeys((*CORE_ZONES, *CIRCUIT_ZONES, *MORE_ZONES)))
MINUTE = dt.timedelta(minutes=1)
DURATION = 60


def slug_of(zone: str) -> str:
    """ "America/Indiana/Indianapolis" -> "america-indiana-indianapolis"."""
    return re.sub(r"[^a-z0-9]+", "-", zone.lower()).strip("-")


# -- the oracle (zoneinfo only) -------------------------------------------------------------


def offset_changes(zone: str, year: int) -> list[tuple[dt.datetime, dt.timedelta, dt.timedelta]]:
    """(UTC instant, offset before, offset after) of each change in ``year``: a probe every six
    hours, then bisection to the minute."""
    tz = ZoneInfo(zone)

    def offset(at: dt.datetime) -> dt.timedelta:
        return at.astimezone(tz).utcoffset()  # type: ignore[return-value]

    found = []
    at, end = dt.datetime(year, 1, 1, tzinfo=UTC), dt.datetime(year + 1, 1, 1, tzinfo=UTC)
    step = dt.timedelta(hours=6)
    while at < end:
        low, high = at, at + step
        if offset(low) != offset(high):
            while high - low > MINUTE:
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            found.append((high, offset(low), offset(high)))
        at += step
    return found


def instant(wall: dt.datetime, zone: str, fold: int = 0) -> dt.datetime:
    """zoneinfo's UTC instant of a wall time (``fold`` 1: the second of a repeated time)."""
    return wall.replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def sessions_for(zone: str, year: int) -> list[dict]:
    """The sessions of one zone and year, each with the instants zoneinfo gives it."""
    made = []

    def add(slug: str, wall: dt.datetime, fold: int = 0, offset: str | None = None) -> None:
        wall = wall.replace(second=0, microsecond=0)
        if wall.year != year:
            return
        start = instant(wall, zone, fold)
        made.append(
            {
                "slug": slug,
                "wall": wall,
                "utc_offset": offset,
                "start": start,
                "end": start + dt.timedelta(minutes=DURATION),
            }
        )

    add("winter", dt.datetime(year, 1, 15, 14, 0))
    add("summer", dt.datetime(year, 7, 15, 14, 0))
    for n, (at, before, after) in enumerate(offset_changes(zone, year), start=1):
        wall_before, wall_after = (
            (at + before).replace(tzinfo=None),
            (at + after).replace(tzinfo=None),
        )
        # Starts half an hour before the change and ends half an hour after it.
        add(f"change-{n}-across", wall_before - 30 * MINUTE)
        # Starts half an hour after the skipped or repeated hour.
        add(f"change-{n}-after", max(wall_before, wall_after) + 30 * MINUTE)
        if after < before:
            # Clocks went back: the wall times from wall_after to wall_before happen twice.
            middle = wall_after + (before - after) / 2
            add(f"change-{n}-first", middle)
            sign = "-" if after < dt.timedelta(0) else "+"
            minutes = abs(int(after.total_seconds() // 60))
            add(f"change-{n}-second", middle, 1, f"{sign}{minutes // 60:02d}:{minutes % 60:02d}")
    return made


# -- the data, imported once -----------------------------------------------------------------


def write_data(target: Path) -> dict[tuple[str, int, str], tuple[dt.datetime, dt.datetime]]:
    """Data files for every zone; returns the oracle's (start, end) by (zone, year, slug)."""
    target.mkdir(parents=True)
    circuits = [
        {"slug": slug_of(z), "name": f"Circuit {z}", "country": "XX", "timezone": z} for z in ZONES
    ]
    (target / "circuits.yaml").write_text(yaml.safe_dump({"circuits": circuits}))
    expected = {}
    for zone in ZONES:
        rounds = []
        for year in YEARS:
            sessions = []
            for s in sessions_for(zone, year):
                expected[zone, year, s["slug"]] = (s["start"], s["end"])
                doc = {
                    "slug": s["slug"],
                    "name": s["slug"].replace("-", " ").title(),
                    "kind": "race",
                    "date": s["wall"].date().isoformat(),
                    "time": s["wall"].strftime("%H:%M"),
                    "duration": DURATION,
                }
                if s["utc_offset"]:
                    doc["utc_offset"] = s["utc_offset"]
                sessions.append(doc)
            rounds.append(
                {
                    "number": year - YEARS[0] + 1,
                    "circuit": slug_of(zone),
                    "start": f"{year}-01-01",
                    "end": f"{year}-12-31",
                    "sessions": sessions,
                }
            )
        doc = {
            "championship": {
                "slug": f"oracle-{slug_of(zone)}",
                "name": f"Oracle {zone}",
                "series": "Oracle",
                "season": YEARS[0],
            },
            "rounds": rounds,
        }
        (target / f"{slug_of(zone)}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return expected


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, dict]:
    """An app holding every zone's sixteen seasons, imported through ``flask data import``."""
    work = tmp_path_factory.mktemp("oracle")
    expected = write_data(work / "data")
    app = make_app(work / "oracle.sqlite3", AUTO_SEED=False, FEED_VERSION_RECHECK_SECONDS=0)
    result = app.test_cli_runner().invoke(args=["data", "import", str(work / "data")])
    assert result.exit_code == 0, result.output
    return app, expected


@pytest.fixture(scope="module")
def bodies(oracle: tuple[Flask, dict]) -> dict[tuple[str, str], bytes]:
    """Each zone's whole-span calendar, as served and with ``tz=utc``."""
    client = oracle[0].test_client()
    out = {}
    for zone in ZONES:
        url = f"/championships/oracle-{slug_of(zone)}/calendar.ics?exclude=weekend"
        for variant, query in (("local", ""), ("utc", "&tz=utc")):
            response = client.get(url + query)
            assert response.status_code == 200, (zone, response.data[:200])
            out[zone, variant] = response.data
    return out


# -- the readers -------------------------------------------------------------------------------

Reading = dict[tuple[int, str], tuple[dt.datetime, dt.datetime]]


def _key(uid: str) -> tuple[int, str]:
    _, number, slug = uid.split("@")[0].split(".")
    return int(number), slug


def read_icalendar(body: str) -> Reading:
    out = {}
    for event in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start.tzinfo is not None and end.tzinfo is not None
        out[_key(str(event["UID"]))] = (start.astimezone(UTC), end.astimezone(UTC))
    return out


def read_vobject(body: str) -> Reading:
    out = {}
    for event in fresh_vobject(body).contents.get("vevent", []):
        start, end = event.dtstart.value, event.dtend.value
        assert start.tzinfo is not None and end.tzinfo is not None
        out[_key(event.uid.value)] = (start.astimezone(UTC), end.astimezone(UTC))
    return out


def read_ics(body: str) -> Reading:
    return {
        _key(event.uid): (event.begin.datetime.astimezone(UTC), event.end.datetime.astimezone(UTC))
        for event in ics.Calendar(body).events
    }


READERS: dict[str, Callable[[str], Reading]] = {
    "icalendar": read_icalendar,
    "vobject": read_vobject,
    "ics": read_ics,
}


def own_vtimezones_only(body: bytes) -> str:
    """The calendar with every TZID renamed to one no zone database knows, so that a reader
    can only use the file's own VTIMEZONE. The name carries a digest of the file: vobject and
    icalendar keep the first VTIMEZONE they see for a TZID for the rest of the process."""
    text = body.decode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:12]
    return re.sub(
        r"(TZID[:=])([^:;\r\n]+)",
        lambda m: f"{m[1]}X-Gridfeed-{digest}-{m[2].replace('/', '-')}",
        text,
    )


ICS_IGNORES_VTIMEZONE = pytest.mark.xfail(
    strict=True,
    reason=f"ics {ics.__version__} never reads VTIMEZONE: an unknown TZID is taken as UTC "
    "(ics/utils.py iso_to_arrow)",
)


def _reader_params(mode: str) -> list[str]:
    # ics's own-VTIMEZONE reading is shown failing once (test_ics_ignores_the_vtimezone).
    return [name for name in READERS if not (mode == "own" and name == "ics")]


def _expected_for(expected: dict, zone: str) -> Reading:
    return {
        (year - YEARS[0] + 1, slug): times
        for (z, year, slug), times in expected.items()
        if z == zone
    }


def _mismatches(got: Reading, want: Reading) -> list[str]:
    missing = sorted(set(want) - set(got))
    wrong = [
        f"round {k[0]} {k[1]}: read {got[k][0]:%Y-%m-%d %H:%MZ}–{got[k][1]:%H:%MZ}, "
        f"zoneinfo {want[k][0]:%Y-%m-%d %H:%MZ}–{want[k][1]:%H:%MZ}"
        for k in sorted(want)
        if k in got and got[k] != want[k]
    ]
    return [f"missing {m}" for m in missing] + wrong


# -- the matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", _reader_params("served"))
@pytest.mark.parametrize("zone", ZONES)
def test_served_calendar_reads_at_zoneinfos_instants(oracle, bodies, zone, reader) -> None:
    got = READERS[reader](bodies[zone, "local"].decode("utf-8"))
    want = _expected_for(oracle[1], zone)
    assert len(want) >= 2 * len(YEARS)
    assert not _mismatches(got, want)


@pytest.mark.parametrize("reader", _reader_params("own"))
@pytest.mark.parametrize("zone", ZONES)
def test_own_vtimezone_reads_at_zoneinfos_instants(oracle, bodies, zone, reader) -> None:
    got = READERS[reader](own_vtimezones_only(bodies[zone, "local"]))
    assert not _mismatches(got, _expected_for(oracle[1], zone))


@pytest.mark.parametrize("reader", _reader_params("served"))
@pytest.mark.parametrize("zone", ZONES)
def test_utc_variant_reads_at_zoneinfos_instants(oracle, bodies, zone, reader) -> None:
    text = bodies[zone, "utc"].decode("utf-8")
    assert "TZID" not in text and "BEGIN:VTIMEZONE" not in text
    assert not _mismatches(READERS[reader](text), _expected_for(oracle[1], zone))


@ICS_IGNORES_VTIMEZONE
def test_ics_ignores_the_vtimezone(oracle, bodies) -> None:
    zone = "Europe/Paris"
    got = read_ics(own_vtimezones_only(bodies[zone, "local"]))
    assert not _mismatches(got, _expected_for(oracle[1], zone))


@pytest.mark.xfail(
    strict=True,
    reason=f"vobject {vobject.VERSION} keeps the first VTIMEZONE it reads for a TZID for the "
    "whole process (icalendar.py TimezoneComponent.registerTzinfo), so a later file with a "
    "longer span is read with the earlier file's rules",
)
def test_vobject_keeps_the_first_vtimezone(oracle, bodies) -> None:
    client = oracle[0].test_client()
    zone = "America/Sao_Paulo"
    season = client.get(f"/championships/oracle-{slug_of(zone)}/rounds/9.ics").get_data(True)
    fresh_vobject(season)  # 2023 only: no daylight time at all
    got = {}
    for event in vobject.readOne(bodies[zone, "local"].decode()).contents.get("vevent", []):
        got[_key(event.uid.value)] = tuple(
            v.astimezone(UTC) for v in (event.dtstart.value, event.dtend.value)
        )
    assert not _mismatches(got, _expected_for(oracle[1], zone))


@pytest.mark.parametrize("reader", _reader_params("own"))
@pytest.mark.parametrize("year", [2016, 2019, 2023])
def test_one_season_calendars_read_at_zoneinfos_instants(oracle, year, reader) -> None:
    """A round's calendar spans one season: its VTIMEZONE is built for that span alone."""
    app, expected = oracle
    client = app.test_client()
    for zone in ZONES:
        number = year - YEARS[0] + 1
        url = f"/championships/oracle-{slug_of(zone)}/rounds/{number}.ics"
        body = client.get(url + "?exclude=weekend").data
        want = {k: v for k, v in _expected_for(expected, zone).items() if k[0] == number}
        got = READERS[reader](own_vtimezones_only(body))
        assert not _mismatches(got, want), zone


def test_repeated_times_are_written_in_utc_naming_the_zone(oracle, bodies) -> None:
    """A TZID time cannot say which of two occurrences it is: such events are in UTC, and
    the description names the circuit's zone and which occurrence it is."""
    seen = 0
    for zone in ZONES:
        cal = fresh_vobject(bodies[zone, "local"].decode("utf-8"))
        for event in cal.contents.get("vevent", []):
            slug = event.uid.value.split("@")[0].split(".")[-1]
            line = event.dtstart.serialize()
            if slug.endswith(("-first", "-second")):
                seen += 1
                assert re.search(r"DTSTART:\d{8}T\d{6}Z", line), (zone, slug, line)
                which = "first" if slug.endswith("-first") else "second"
                assert f"the {which}" in event.description.value and zone in (
                    event.description.value
                ), (zone, slug)
            elif slug in ("summer", "winter"):
                assert "TZID=" in line, (zone, slug, line)
    assert seen >= 2 * 16 * 4  # the European and American zones alone repeat an hour yearly


def test_vtimezones_are_small_outlook_shaped_and_close_changed_rules(bodies) -> None:
    for zone in ZONES:
        text = bodies[zone, "local"].decode("utf-8")
        block = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE")]
        assert "RDATE" not in block, zone
        assert len(block) < 6000, (zone, len(block))
    paris = fresh_vobject(bodies["Europe/Paris", "local"].decode()).vtimezone
    assert [len(paris.contents["standard"]), len(paris.contents["daylight"])] == [1, 1]
    for observance in (*paris.contents["standard"], *paris.contents["daylight"]):
        assert "BYDAY=-1SU" in observance.rrule.value and "UNTIL" not in observance.rrule.value
    sao_paulo = bodies["America/Sao_Paulo", "local"].decode()
    block = sao_paulo[sao_paulo.index("BEGIN:VTIMEZONE") : sao_paulo.index("END:VTIMEZONE")]
    # Brazil's last daylight time ended in February 2019: its rules are closed there.
    assert re.search(r"RRULE:FREQ=YEARLY;UNTIL=2019\d{4}T\d{6}Z", block), block
    assert "TZOFFSETTO:-0200" in block
    assert block.count("BEGIN:DAYLIGHT") >= 2  # the October rule, then November 2018


# -- hypothesis: more zones, any instant ---------------------------------------------------------

# Zones where a reader reads a correct VTIMEZONE wrongly; each has its own xfail below.
READER_BUGS: dict[str, str] = {}
DRAWN_ZONES = sorted(
    z
    for z in available_timezones()
    if "/" in z
    and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    and z not in READER_BUGS
)


def _reader_offsets(vtimezone: bytes, reader: str) -> dt.tzinfo:
    """The tzinfo a reader builds from a VTIMEZONE alone."""
    text = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        + vtimezone
        + b"END:VCALENDAR\r\n"
    ).decode()
    text = own_vtimezones_only(text.encode())
    if reader == "icalendar":
        component = icalendar.Calendar.from_ical(text).walk("VTIMEZONE")[0]
        return component.to_tz(lookup_tzid=False)
    return vobject.readOne(text).vtimezone.gettzinfo()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(DRAWN_ZONES),
    first=st.datetimes(dt.datetime(2015, 1, 1), dt.datetime(2030, 6, 30)),
    days=st.integers(1, 5 * 366),
    probes=st.lists(st.floats(0, 1), min_size=1, max_size=8),
    reader=st.sampled_from(["icalendar", "vobject"]),
)
def test_drawn_zones_and_instants_match_zoneinfo(zone, first, days, probes, reader) -> None:
    start = first.replace(tzinfo=UTC)
    end = min(start + dt.timedelta(days=days), dt.datetime(2030, 12, 31, tzinfo=UTC))
    tz = _reader_offsets(vtimezone_ical(zone, start, end), reader)
    oracle_zone = ZoneInfo(zone)
    for share in probes:
        at = (start + (end - start) * share).replace(microsecond=0)
        want = at.astimezone(oracle_zone)
        got = at.astimezone(tz)
        assert got.utcoffset() == want.utcoffset(), (zone, at, reader)
        # The wall time alone, with the occurrence zoneinfo gives it, back to the instant.
        wall = want.replace(tzinfo=None)
        assert wall.replace(tzinfo=tz, fold=want.fold).astimezone(UTC) == at, (zone, at, reader)
