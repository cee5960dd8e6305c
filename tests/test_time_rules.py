"""Time rules at the write path, through HTTP and the data CLI: a local time that does not
exist is refused naming the gap, a repeated local time is its first occurrence unless the write
names the other with ``utc_offset``, and every output derives the same UTC instant."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path

import ics
import pytest
import vobject
from flask import Flask

from .helpers import store_counts

UTC = dt.UTC
CHAMP = "time-cup-2023"
ROUNDS = f"/api/v1/championships/{CHAMP}/rounds"

REGISTRY = """
circuits:
  - slug: paris-ring
    name: Paris Ring
    country: FR
    timezone: Europe/Paris
  - slug: melbourne-park
    name: Melbourne Park
    country: AU
    timezone: Australia/Melbourne
  - slug: indy-oval
    name: Indy Oval
    country: US
    timezone: America/Indiana/Indianapolis
championship: {slug: time-cup-2023, name: Time Cup, series: Time Cup, season: 2023}
"""

# (circuit, local day, local time) -> the first occurrence in UTC, per RFC 5545 §3.3.5.
AMBIGUOUS = {
    "paris": ("paris-ring", "2023-10-29", "02:30", "2023-10-29T00:30:00Z"),
    "melbourne": ("melbourne-park", "2023-04-02", "02:30", "2023-04-01T15:30:00Z"),
    "indianapolis": ("indy-oval", "2023-11-05", "01:30", "2023-11-05T05:30:00Z"),
}
# The second occurrence, named by its offset.
SECOND = {
    "paris": ("+01:00", "2023-10-29T01:30:00Z"),
    "melbourne": ("+10:00", "2023-04-01T16:30:00Z"),
    "indianapolis": ("-05:00", "2023-11-05T06:30:00Z"),
}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def time_app(empty_app: Flask, tmp_path: Path) -> Flask:
    """An empty store with three circuits (imported from a data file) and a championship."""
    registry = tmp_path / "data" / "registry.yaml"
    registry.parent.mkdir()
    registry.write_text(textwrap.dedent(REGISTRY).lstrip(), encoding="utf-8")
    circuits, championship = registry.read_text().split("championship:")
    registry.write_text(circuits, encoding="utf-8")
    (tmp_path / "data" / "cup.yaml").write_text(
        "championship:" + championship + "rounds: []\n", encoding="utf-8"
    )
    result = empty_app.test_cli_runner().invoke(args=["data", "import", str(registry.parent)])
    assert result.exit_code == 0, result.output
    return empty_app


def _round(client, token: str, number: int, circuit: str, day: str) -> None:
    body = {"number": number, "circuit": circuit, "start_date": day, "end_date": day}
    response = client.post(ROUNDS, json=body, headers=_auth(token))
    assert response.status_code == 201, response.json


def _session(client, token: str, number: int, day: str, time: str, **extra):
    body = {"slug": "race", "name": "Race", "kind": "race", "local_date": day}
    body |= {"local_time": time, "duration_minutes": 30, **extra}
    return client.post(f"{ROUNDS}/{number}/sessions", json=body, headers=_auth(token))


def _token(app: Flask) -> str:
    from .conftest import new_token

    return new_token(app)


def _calendar_starts(client) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    """Each session's (start, end) in UTC, by round number, as vobject and ics read them."""
    body = client.get(f"/championships/{CHAMP}/calendar.ics?exclude=weekend").data
    by_vobject = {}
    for event in vobject.readOne(body.decode()).contents.get("vevent", []):
        number = int(event.uid.value.split("@")[0].split(".")[1])
        by_vobject[number] = (
            event.dtstart.value.astimezone(UTC),
            event.dtend.value.astimezone(UTC),
        )
    by_ics = {}
    for event in ics.Calendar(body.decode()).events:
        number = int(event.uid.split("@")[0].split(".")[1])
        by_ics[number] = (event.begin.datetime.astimezone(UTC), event.end.datetime.astimezone(UTC))
    assert by_vobject == by_ics
    return by_vobject


def _z(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_ambiguous_time_is_its_first_occurrence_everywhere(time_app: Flask) -> None:
    client, token = time_app.test_client(), _token(time_app)
    for number, (circuit, day, time, utc) in enumerate(AMBIGUOUS.values(), start=1):
        _round(client, token, number, circuit, day)
        created = _session(client, token, number, day, time)
        assert created.status_code == 201, created.json
        assert created.json["start_utc"] == utc, circuit
        read = client.get(f"{ROUNDS}/{number}/sessions/race").json
        assert read["start_utc"] == utc, circuit
        assert _z(read["local_start"]) == _z(utc), circuit
    starts = _calendar_starts(client)
    for number, (_, _, _, utc) in enumerate(AMBIGUOUS.values(), start=1):
        assert starts[number] == (_z(utc), _z(utc) + dt.timedelta(minutes=30)), number


def test_the_write_may_name_the_second_occurrence_by_its_offset(time_app: Flask) -> None:
    client, token = time_app.test_client(), _token(time_app)
    for number, (key, (circuit, day, time, _)) in enumerate(AMBIGUOUS.items(), start=1):
        offset, utc = SECOND[key]
        _round(client, token, number, circuit, day)
        created = _session(client, token, number, day, time, utc_offset=offset)
        assert created.status_code == 201, created.json
        assert created.json["start_utc"] == utc, key
        assert created.json["local_start"].endswith(offset), key
        # A change of status only keeps the chosen occurrence.
        etag = client.get(f"{ROUNDS}/{number}/sessions/race").headers["ETag"]
        patched = client.patch(
            f"{ROUNDS}/{number}/sessions/race",
            json={"status": "postponed"},
            headers={**_auth(token), "If-Match": etag},
        )
        assert patched.status_code == 200, patched.json
        assert patched.json["start_utc"] == utc, key
    starts = _calendar_starts(client)
    for number, key in enumerate(AMBIGUOUS, start=1):
        utc = _z(SECOND[key][1])
        assert starts[number] == (utc, utc + dt.timedelta(minutes=30)), key


def test_an_offset_the_local_time_does_not_have_is_a_422(time_app: Flask) -> None:
    client, token = time_app.test_client(), _token(time_app)
    _round(client, token, 1, "paris-ring", "2023-10-29")
    before = store_counts(time_app)
    response = _session(client, token, 1, "2023-10-29", "02:30", utc_offset="+03:00")
    assert response.status_code == 422, response.json
    assert "utc_offset" in response.json["detail"]
    assert "+02:00" in response.json["detail"] and "+01:00" in response.json["detail"]
    assert store_counts(time_app) == before


def test_a_time_in_the_gap_is_refused_naming_the_gap(time_app: Flask) -> None:
    client, token = time_app.test_client(), _token(time_app)
    _round(client, token, 1, "paris-ring", "2023-03-26")
    before = store_counts(time_app)
    response = _session(client, token, 1, "2023-03-26", "02:30")
    assert response.status_code == 422, response.json
    detail = response.json["detail"]
    assert "local_time" in detail
    assert (
        "02:30 does not exist on Sun 26 March 2023 in Europe/Paris "
        "(clocks go from 02:00 to 03:00)" in detail
    )
    assert "01:59 and 03:00" in detail
    assert store_counts(time_app) == before
    assert client.get(f"{ROUNDS}/1/sessions/race").status_code == 404
    # Moving an existing session into the gap is refused the same way.
    assert _session(client, token, 1, "2023-03-26", "03:00").status_code == 201
    etag = client.get(f"{ROUNDS}/1/sessions/race").headers["ETag"]
    moved = client.patch(
        f"{ROUNDS}/1/sessions/race",
        json={"local_time": "02:00"},
        headers={**_auth(token), "If-Match": etag},
    )
    assert moved.status_code == 422, moved.json
    assert "02:00 does not exist on Sun 26 March 2023" in moved.json["detail"]
    assert client.get(f"{ROUNDS}/1/sessions/race").json["local_time"] == "03:00"


GAP_FILE = """
championship: {slug: gap-cup-2023, name: Gap Cup, series: Gap Cup, season: 2023}
rounds:
  - number: 1
    circuit: paul-ricard
    start: 2023-03-25
    end: 2023-10-29
    sessions:
      - slug: race
        name: Race
        kind: race
        date: 2023-03-26
        time: "02:30"
        duration: 30
      - slug: race-2
        name: Race 2
        kind: race
        date: 2023-10-29
        time: "02:30"
        utc_offset: "+05:00"
"""


def test_data_files_get_the_gap_with_file_line_and_field(runner, tmp_path: Path) -> None:
    path = tmp_path / "gap-cup-2023.yaml"
    path.write_text(textwrap.dedent(GAP_FILE).lstrip(), encoding="utf-8")
    before = store_counts(runner.app)
    result = runner.invoke(args=["data", "validate", str(path)])
    assert result.exit_code == 1
    assert (
        f"{path}:12: rounds[0].sessions[0].time: 02:30 does not exist on Sun 26 March 2023 in "
        "Europe/Paris (clocks go from 02:00 to 03:00)"
    ) in result.output
    assert f"{path}:19: rounds[0].sessions[1].utc_offset:" in result.output
    result = runner.invoke(args=["data", "import", str(path)])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert store_counts(runner.app) == before


def test_moving_a_round_to_a_zone_where_its_time_is_skipped_is_refused(time_app: Flask) -> None:
    client, token = time_app.test_client(), _token(time_app)
    _round(client, token, 1, "paris-ring", "2023-03-12")
    assert _session(client, token, 1, "2023-03-12", "02:30").status_code == 201
    before = store_counts(time_app)
    etag = client.get(f"{ROUNDS}/1").headers["ETag"]
    moved = client.patch(
        f"{ROUNDS}/1", json={"circuit": "indy-oval"}, headers={**_auth(token), "If-Match": etag}
    )
    assert moved.status_code == 422, moved.json
    assert (
        "02:30 does not exist on Sun 12 March 2023 in America/Indiana/Indianapolis"
        in moved.json["detail"]
    )
    assert "circuit" in moved.json["detail"]
    assert store_counts(time_app) == before


def test_the_second_occurrence_survives_export_and_reimport(runner, tmp_path: Path) -> None:
    path = tmp_path / "in" / "fold-cup-2023.yaml"
    path.parent.mkdir()
    path.write_text(
        textwrap.dedent(GAP_FILE)
        .lstrip()
        .replace("gap-cup", "fold-cup")
        .replace('time: "02:30"\n        duration: 30', 'time: "01:30"\n        duration: 30')
        .replace('"+05:00"', '"+01:00"'),
        encoding="utf-8",
    )
    result = runner.invoke(args=["data", "import", str(path)])
    assert result.exit_code == 0, result.output
    client = runner.app.test_client()
    race_2 = client.get("/api/v1/championships/fold-cup-2023/rounds/1/sessions/race-2").json
    assert race_2["start_utc"] == "2023-10-29T01:30:00Z"
    assert race_2["local_start"] == "2023-10-29T02:30:00+01:00"
    out = tmp_path / "out"
    assert runner.invoke(args=["data", "export", str(out)]).exit_code == 0
    exported = (out / "championships" / "fold-cup-2023.yaml").read_text(encoding="utf-8")
    assert re.search(r"utc_offset: ['\"]?\+01:00", exported), exported
    assert exported.count("utc_offset") == 1  # the first occurrence needs no offset
    # The exported file reads back as the same occurrence.
    result = runner.invoke(args=["data", "validate", str(out)])
    assert result.exit_code == 0, result.output
    before = store_counts(runner.app)
    assert runner.invoke(args=["data", "import", str(out)]).exit_code == 0
    assert store_counts(runner.app) == before  # nothing changed
