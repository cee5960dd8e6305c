"""Publishing a whole season through the API alone: circuits, teams, competitors, entries,
rounds, sessions and a results sheet (CSV), read back through the calendar (vobject and
ics), the news feed (feedparser) and the pages; slug redirects, deletions, next season and
the series calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any

import feedparser
import ics
import pytest
import vobject
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.domain.models import Change
from service.store.engine import get_store

from .conftest import new_token
from .helpers import store_counts

NEW = "gt4-european-series-2024"
RACE_1 = f"/api/v1/championships/{NEW}/rounds/1/sessions/race-1"

# A classification sheet as a timing system exports it: its own header names, one driver
# spelled without the accent, a lapped car and a retirement.
SHEET = (
    "POS,NO,DRIVERS,TEAM,LAPS,TOTAL TIME,GAP,BEST LAP,STATUS,CLASS\n"
    "1,41,Andreas Backman / Jessica Bäckman,racing one,23,1:02:03.456,,2:01.234,"
    "Classified,Silver\n"
    '2,7,"Ola Nordmann",Nordic Motorsport,23,1:02:15.801,+12.345,2:01.9,Classified,Pro-Am\n'
    "3,12,Per Persson,Nordic Motorsport,22,+1 Lap,,2:02.500,Classified,Silver\n"
    "DNF,99,Max Muster,Nordic Motorsport,3,,,2:05.000,DNF,Am\n"
)


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


class SeasonActions:
    """Builds a season through the write API, as a press officer would (one call each)."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.token = client, token

    def post(self, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = self.client.post(f"/api/v1{path}", json=body, headers=_auth(self.token))
        assert response.status_code == status, response.json
        return response.json

    def patch(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        etag = self.client.get(f"/api/v1{path}").headers["ETag"]
        response = self.client.patch(
            f"/api/v1{path}", json=body, headers=_auth(self.token, **{"If-Match": etag})
        )
        assert response.status_code == status, response.json
        return response

    def delete(self, path: str) -> Any:
        etag = self.client.get(f"/api/v1{path}").headers["ETag"]
        return self.client.delete(f"/api/v1{path}", headers=_auth(self.token, **{"If-Match": etag}))

    def sheet(self, path: str, text: str | bytes, query: str = "", **headers: str) -> Any:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return self.client.post(
            f"/api/v1{path}/results{query}",
            data=data,
            headers=_auth(self.token, **{"Content-Type": "text/csv", **headers}),
        )

    def build_2024(self) -> None:
        """The 2024 season from nothing: one round at Paul Ricard with a timed race."""
        self.post(
            "/championships",
            {
                "slug": NEW,
                "name": "GT4 European Series 2024",
                "series": "GT4 European Series",
                "season": 2024,
            },
        )
        self.post(
            "/circuits",
            {
                "slug": "paul-ricard",
                "name": "Circuit Paul Ricard",
                "locality": "Le Castellet",
                "country": "FR",
                "timezone": "Europe/Paris",
                "latitude": 43.2506,
                "longitude": 5.7917,
                "length_m": 5842,
            },
        )
        self.post("/teams", {"slug": "racing-one", "name": "racing one", "country": "DE"})
        self.post("/teams", {"slug": "nordic-motorsport", "name": "Nordic Motorsport"})
        drivers = {
            "andreas-backman": "Andreas Bäckman",
            "jessica-backman": "Jessica Bäckman",
            "ola-nordmann": "Ola Nordmann",
            "per-persson": "Per Persson",
            "max-muster": "Max Muster",
        }
        for slug, name in drivers.items():
            self.post("/competitors", {"slug": slug, "name": name, "country": "SE"})
        entries = [
            ("racing-one-41", "racing-one", "41", "Silver", ["andreas-backman", "jessica-backman"]),
            ("nordic-7", "nordic-motorsport", "7", "Pro-Am", ["ola-nordmann"]),
            ("nordic-12", "nordic-motorsport", "12", "Silver", ["per-persson"]),
            ("nordic-99", "nordic-motorsport", "99", "Am", ["max-muster"]),
        ]
        for slug, team, number, car_class, crew in entries:
            self.post(
                f"/championships/{NEW}/entries",
                {
                    "slug": slug,
                    "team": team,
                    "car": "Aston Martin Vantage GT4",
                    "number": number,
                    "class": car_class,
                    "drivers": crew,
                },
            )
        self.post(
            f"/championships/{NEW}/rounds",
            {
                "number": 1,
                "circuit": "paul-ricard",
                "start_date": "2024-05-31",
                "end_date": "2024-06-02",
            },
        )
        self.post(
            f"/championships/{NEW}/rounds/1/sessions",
            {
                "slug": "race-1",
                "name": "Race 1",
                "kind": "race",
                "local_date": "2024-06-01",
                "local_time": "15:30",
                "duration_minutes": 60,
            },
        )


@pytest.fixture
def season(empty_app: Flask) -> SeasonActions:
    return SeasonActions(empty_app.test_client(), new_token(empty_app))


def test_a_season_built_through_the_api_alone_reads_back_everywhere(season) -> None:
    season.build_2024()
    response = season.sheet(f"/championships/{NEW}/rounds/1/sessions/race-1", SHEET)
    assert response.status_code == 200, response.json
    assert response.json["changed"] is True
    lines = {line["entry"]: line for line in response.json["results"]["lines"]}
    assert lines["racing-one-41"]["total_time"] == "1:02:03.456"
    assert lines["nordic-7"]["gap"] == "+12.345"
    assert lines["nordic-12"]["gap"] == "+1 lap"
    assert lines["nordic-99"]["outcome"] == "DNF"
    # Class positions are derived from the entries' classes: the second Silver car is P2.
    assert [lines[e]["class_position"] for e in ("racing-one-41", "nordic-7", "nordic-12")] == [
        1,
        1,
        2,
    ]
    assert lines["nordic-99"]["class_position"] is None
    client = season.client

    # The calendar: the race at 15:30 Paris time, its results in the description.
    body = client.get(f"/championships/{NEW}/calendar.ics").data.decode()
    cal = vobject.readOne(body)
    race = next(e for e in cal.vevent_list if "Race 1 –" in e.summary.value)
    assert race.dtstart.value.astimezone(dt.UTC) == dt.datetime(2024, 6, 1, 13, 30, tzinfo=dt.UTC)
    description = race.description.value
    assert "1. Andreas Bäckman / Jessica Bäckman" in description
    assert "Silver P1, 23 laps, 1:02:03.456, best 2:01.234" in description
    assert "+1 lap" in description
    parsed = ics.Calendar(body)
    assert any("Circuit Paul Ricard" in (e.location or "") for e in parsed.events)

    # The news feed: one results entry with the timing columns.
    feed = feedparser.parse(client.get(f"/championships/{NEW}/news.atom").data)
    assert not feed.bozo, feed.bozo_exception
    results = [e for e in feed.entries if e.title.endswith("results")]
    assert len(results) == 1
    html = results[0].content[0].value
    for text in ("Best lap", "Time / gap", "1:02:15.801", "+1 lap", "Silver (2nd)", "Pro-Am"):
        assert text in html

    # The pages.
    page = client.get(f"/championships/{NEW}").get_data(as_text=True)
    assert "Nordic Motorsport" in page and "2:01.234" in page
    round_page = client.get(f"/championships/{NEW}/rounds/1").get_data(as_text=True)
    assert "Andreas Bäckman" in round_page and "<th>Laps</th>" in round_page


def test_a_sheet_with_an_unknown_driver_imports_nothing_then_imports_once(season) -> None:
    season.build_2024()
    app = season.client.application
    path = f"/championships/{NEW}/rounds/1/sessions/race-1"
    wrong = SHEET.replace("3,12,Per Persson", "3,,Pär Unknown")
    before = store_counts(app)
    response = season.sheet(path, wrong)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "line 4"
    assert "Pär Unknown match no entry" in response.json["errors"][0]["message"]
    assert store_counts(app) == before
    assert season.client.get(f"{RACE_1}/results").json["status"] == "none"

    # Fixed: the line names Per (without a car number: matched by his name alone).
    fixed = SHEET.replace("3,12,Per Persson", "3,,PERSSON Per")
    assert season.sheet(path, fixed).json["changed"] is True
    after_first = store_counts(app)
    assert after_first[0] == before[0] + 1

    again = season.sheet(path, fixed)
    assert again.status_code == 200
    assert again.json["changed"] is False and again.json["diff"] == []
    assert store_counts(app) == after_first


def test_a_changed_sheet_needs_if_match_and_a_dry_run_writes_nothing(season) -> None:
    season.build_2024()
    path = f"/championships/{NEW}/rounds/1/sessions/race-1"
    assert season.sheet(path, SHEET).status_code == 200
    app = season.client.application
    counts = store_counts(app)
    corrected = SHEET.replace("1:02:15.801,+12.345", "1:02:16.801,+13.345")
    dry = season.sheet(path, corrected, "?dry_run=true")
    assert dry.status_code == 200
    assert dry.json["diff"] == [
        "~ nordic-7: P2 classified class P1 23 laps 1:02:15.801 +12.345 best 2:01.900 -> "
        "P2 classified class P1 23 laps 1:02:16.801 +13.345 best 2:01.900"
    ]
    assert store_counts(app) == counts
    assert season.sheet(path, corrected).status_code == 428
    etag = season.client.get(f"{RACE_1}/results").headers["ETag"]
    assert season.sheet(path, corrected, **{"If-Match": etag}).json["changed"] is True
    # The news feed's results entry says what the correction changed, in timing-sheet terms.
    feed = feedparser.parse(season.client.get(f"/championships/{NEW}/news.atom").data)
    html = next(e for e in feed.entries if e.title.endswith("results")).content[0].value
    assert "nordic-7: total time 1:02:15.801 → 1:02:16.801" in html
    assert "nordic-7: gap +12.345 → +13.345" in html


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_sheet_encodings_and_delimiters(season, encoding: str, delimiter: str) -> None:
    season.build_2024()
    text = (
        f"Pos{delimiter}No.{delimiter}Driver{delimiter}Laps{delimiter}Time{delimiter}Status\r\n"
        f"1{delimiter}7{delimiter}Ola Nordmann{delimiter}23{delimiter}1:02:15.801{delimiter}\r\n"
        f"2{delimiter}{delimiter}Jessica Bäckman / Andreas Bäckman{delimiter}22{delimiter}"
        f"+1 LAP{delimiter}\r\n"
    )
    response = season.sheet(f"/championships/{NEW}/rounds/1/sessions/race-1", text.encode(encoding))
    assert response.status_code == 200, response.json
    lines = response.json["results"]["lines"]
    assert [(ln["entry"], ln["laps"]) for ln in lines] == [("nordic-7", 23), ("racing-one-41", 22)]


@pytest.mark.parametrize(
    ("sheet", "field", "words"),
    [
        ("NAME,TEAM\nA,B\n", "line 1", "no POS"),
        ("POS,NO\nfirst,41\n", "line 2.STATUS", "unknown status 'first'"),
        ("POS,NO,LAPS\n1,41,many\n", "line 2.LAPS", "not a number of laps"),
        ("POS,NO,BEST LAP\n1,41,fast\n", "line 2.BEST LAP", "not a lap time"),
        ("POS,NO\n", "(body)", "no lines"),
        ("", "(body)", "empty"),
        ("POS,NO\n1,4\x001\n", "line 2", "control character"),
        ('POS,NO,DRIVERS\n1,41,"A\nB"\nX,7,C\n', "line 4.STATUS", "unknown status 'X'"),
        ('POS,NO\n1,"' + "x" * 200_000 + '"\n', "line 2", "not CSV"),
        ("\ufeffPOS,NO\n1,41\n".encode("utf-16"), "(body)", "UTF-16"),
    ],
)
def test_bad_sheets_are_422_naming_the_line(
    season, sheet: str | bytes, field: str, words: str
) -> None:
    season.build_2024()
    response = season.sheet(f"/championships/{NEW}/rounds/1/sessions/race-1", sheet)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["errors"][0]["field"] == field
    assert words in response.json["errors"][0]["message"]


def test_create_entries_makes_the_missing_entry_and_driver(season) -> None:
    season.build_2024()
    path = f"/championships/{NEW}/rounds/1/sessions/race-1"
    sheet = SHEET + "5,88,Nina Neu,New Team,20,+3 Laps,,2:06.000,Classified,Am\n"
    assert season.sheet(path, sheet).status_code == 422
    response = season.sheet(path, sheet, "?create_entries=true")
    assert response.status_code == 200, response.json
    assert response.json["created_entries"] == ["new-team-88"]
    entry = season.client.get(f"/api/v1/championships/{NEW}/entries/new-team-88").json
    assert (entry["team"], entry["number"], entry["drivers"]) == ("new-team", "88", ["nina-neu"])


def test_results_import_cli_dry_run_failure_and_no_op(season, tmp_path) -> None:
    season.build_2024()
    runner = season.client.application.test_cli_runner()
    args = ["--championship", NEW, "--round", "1", "--session", "race-1"]
    bad = tmp_path / "bad.csv"
    bad.write_text(SHEET.replace("3,12,Per Persson", "3,,Pär Unknown"), encoding="cp1252")
    result = runner.invoke(args=["results", "import", str(bad), *args])
    assert result.exit_code == 1
    assert "line 4: no car number and Pär Unknown match no entry" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(b"\xef\xbb\xbf" + SHEET.encode())
    dry = runner.invoke(args=["results", "import", str(good), *args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "+ racing-one-41: P1 classified class P1 23 laps 1:02:03.456" in dry.output
    assert "nothing was written" in dry.output
    assert season.client.get(f"{RACE_1}/results").json["status"] == "none"
    first = runner.invoke(args=["results", "import", str(good), *args])
    assert first.exit_code == 0 and "Imported: 4 line(s) changed." in first.output
    counts = store_counts(season.client.application)
    second = runner.invoke(args=["results", "import", str(good), *args])
    assert "Nothing changed" in second.output
    assert store_counts(season.client.application) == counts


# -- slugs, deletions -----------------------------------------------------------------------


def test_renames_keep_slugs_and_a_slug_change_redirects_everywhere(client, token) -> None:
    actions = SeasonActions(client, token)
    renamed = actions.patch("/competitors/andreas-backman", {"name": "Andreas Bäckman Jr"})
    assert renamed.json["slug"] == "andreas-backman"
    moved = actions.patch("/competitors/andreas-backman", {"slug": "andreas-backman-jr"})
    assert moved.json["slug"] == "andreas-backman-jr"
    for path in (
        "/competitors/andreas-backman",
        "/competitors/andreas-backman/calendar.ics",
        "/competitors/andreas-backman/news.atom",
        "/api/v1/competitors/andreas-backman",
    ):
        response = client.get(path + "?alarm=30" if path.endswith(".ics") else path)
        assert response.status_code == 301, path
        assert response.headers["Location"].replace("-jr", "") == "http://localhost" + (
            path + ("?alarm=30" if path.endswith(".ics") else "")
        )
        assert "andreas-backman-jr" in response.headers["Location"]
        assert client.get(response.headers["Location"]).status_code == 200
    cal = vobject.readOne(client.get("/competitors/andreas-backman-jr/calendar.ics").data.decode())
    assert "Andreas Bäckman Jr" in cal.contents["x-wr-calname"][0].value
    # The article that named him still links to him.
    article = client.get("/api/v1/articles/tough-weekend-for-the-backman-siblings-in-france")
    assert "andreas-backman-jr" in article.json["competitors"]
    assert client.get("/api/v1/competitors/andreas-backman-jr").json["name"] == (
        "Andreas Bäckman Jr"
    )
    # The slug change is in the change record, with its author.
    with get_store(client.application).sessions() as session:
        change = session.scalars(select(Change).order_by(Change.id.desc())).first()
        assert (change.entity, change.key, change.action) == (
            "competitor",
            "competitors/andreas-backman",
            "slug changed",
        )
        assert change.after["slug"] == "andreas-backman-jr"
        assert change.actor.startswith("token:")
    assert client.get("/competitors/nobody").status_code == 404


def test_deleting_a_moved_object_ends_its_redirect(client, token) -> None:
    actions = SeasonActions(client, token)
    actions.post("/teams", {"slug": "old-team", "name": "Old Team"})
    actions.patch("/teams/old-team", {"slug": "new-team"})
    assert client.get("/api/v1/teams/old-team").status_code == 301
    assert actions.delete("/teams/new-team").status_code == 204
    assert client.get("/api/v1/teams/old-team").status_code == 404
    # The old slug is free again for a new team, which then answers for itself.
    actions.post("/teams", {"slug": "old-team", "name": "Another Old Team"})
    assert client.get("/api/v1/teams/old-team").json["name"] == "Another Old Team"


def test_deletion_only_where_nothing_refers(client, token) -> None:
    actions = SeasonActions(client, token)
    response = actions.delete("/circuits/paul-ricard")
    assert response.status_code == 409
    assert response.json["title"] == "Conflict"
    assert "round gt4-european-series-2023/2" in response.json["detail"]
    response = actions.delete("/competitors/jessica-backman")
    assert response.status_code == 409
    assert "entry gt4-european-series-2023/racing-one-backman" in response.json["detail"]
    response = actions.delete("/teams/racing-one")
    assert response.status_code == 409 and "racing-one-backman" in response.json["detail"]
    entry = f"/championships/{'gt4-european-series-2023'}/entries/racing-one-backman"
    response = actions.delete(entry)
    assert response.status_code == 409 and "result in" in response.json["detail"]

    actions.post(
        "/circuits",
        {"slug": "zolder", "name": "Zolder", "country": "BE", "timezone": "Europe/Brussels"},
    )
    assert client.delete("/api/v1/circuits/zolder", headers=_auth(token)).status_code == 428
    assert actions.delete("/circuits/zolder").status_code == 204
    assert client.get("/api/v1/circuits/zolder").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "x", "name": "X", "country": "FR", "timezone": "Mars/Olympus"}, "timezone"),
        ({"slug": "x", "name": "X", "country": "France", "timezone": "Europe/Paris"}, "country"),
        ({"slug": "X Y", "name": "X", "country": "FR", "timezone": "Europe/Paris"}, "slug"),
        (
            {"slug": "x", "name": "X", "country": "FR", "timezone": "UTC", "latitude": 91},
            "latitude",
        ),
        ({"slug": "x", "name": "X" * 201, "country": "FR", "timezone": "UTC"}, "name"),
        ({"slug": "x", "name": None, "country": "FR", "timezone": "UTC"}, "name"),
    ],
)
def test_circuit_validation_names_the_field(client, token, body, field) -> None:
    response = client.post("/api/v1/circuits", json=body, headers=_auth(token))
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json["errors"]}


def test_scoped_token_cannot_write_registries_or_copy_elsewhere(client, runner) -> None:
    scoped = new_token(runner.app, "--championship", "gt4-european-series-2023", name="press")
    response = client.post("/api/v1/teams", json={"slug": "t", "name": "T"}, headers=_auth(scoped))
    assert response.status_code == 403
    response = client.post(
        "/api/v1/championships/gt4-european-series-2023/copy",
        json={"slug": NEW, "season": 2024},
        headers=_auth(scoped),
    )
    assert response.status_code == 403


# -- next season and the series calendar ---------------------------------------------------


def test_next_season_copy_and_the_series_calendar(client, token, runner) -> None:
    old = "gt4-european-series-2023"
    response = client.post(
        f"/api/v1/championships/{old}/copy",
        json={"slug": NEW, "season": 2024},
        headers=_auth(token),
    )
    assert response.status_code == 201, response.json
    assert response.json["name"] == "GT4 European Series 2024"
    assert response.json["rounds"] == [1, 2, 3, 4, 5, 6]
    round_2 = client.get(f"/api/v1/championships/{NEW}/rounds/2").json
    assert round_2["status"] == "provisional"
    assert (round_2["start_date"], round_2["end_date"]) == ("2024-05-31", "2024-06-02")
    assert all(
        s["local_date"] is None and s["results_status"] == "none" for s in round_2["sessions"]
    )
    entries = client.get(f"/api/v1/championships/{NEW}/entries").json["items"]
    assert [e["slug"] for e in entries] == ["racing-one-backman"]

    page = client.get(f"/championships/{old}").get_data(as_text=True)
    assert f'href="/championships/{NEW}/calendar.ics">2024 calendar</a>' in page
    assert "2025 calendar" not in client.get(f"/championships/{NEW}").get_data(as_text=True)

    # The series calendar holds the current season (the latest begun by this year) and the
    # next: with 2023 and 2024 published, that is 2024 alone; the older season drops out.
    year = dt.datetime.now(dt.UTC).year
    assert year >= 2025, "this test reads the real calendar year"
    assert _series_years(client) == {2024}
    assert client.get("/series/no-such-series/calendar.ics").status_code == 404

    # The CLI starts this year's season and the next; the series calendar moves on to them.
    result = runner.invoke(args=["data", "new-season", NEW, "--season", str(year)])
    assert result.exit_code == 0, result.output
    this_year = f"gt4-european-series-{year}"
    assert f"/championships/{this_year}/calendar.ics" in result.output
    result = runner.invoke(args=["data", "new-season", this_year, "--season", str(year + 1)])
    assert result.exit_code == 0, result.output
    assert _series_years(client) == {year, year + 1}
    again = runner.invoke(args=["data", "new-season", NEW, "--season", str(year)])
    assert again.exit_code != 0 and "already exists" in again.output


def _series_years(client: FlaskClient) -> set[int]:
    response = client.get("/series/gt4-european-series/calendar.ics")
    assert response.status_code == 200
    body = response.data.decode()
    assert "ADAC" not in body
    cal = vobject.readOne(body)
    return {e.dtstart.value.year for e in cal.vevent_list}


def test_timing_fields_through_the_json_put_and_none_where_absent(client, token) -> None:
    # The shipped data has positions and outcomes only: no timing columns anywhere.
    page = client.get("/championships/gt4-european-series-2023/rounds/2").get_data(as_text=True)
    assert (
        "<tr><th>Pos</th><th>Drivers</th><th>Team / car</th><th>Outcome</th><th>Note</th></tr>"
        in page
    )
    assert "Laps" not in page and "Best lap" not in page
    cal = client.get("/championships/gt4-european-series-2023/calendar.ics").data.decode()
    assert " laps" not in cal and "best " not in cal

    actions = SeasonActions(client, token)
    results = "/championships/gt4-european-series-2023/rounds/3/sessions/race-9"
    actions.post(
        "/championships/gt4-european-series-2023/rounds/3/sessions",
        {"slug": "race-9", "name": "Race 9", "kind": "race"},
    )
    line = {
        "entry": "racing-one-backman",
        "position": 3,
        "laps": 31,
        "total_time": "1:00:01.5",
        "best_lap": "2:17.043",
    }
    response = client.put(f"/api/v1{results}/results", json={"lines": [line]}, headers=_auth(token))
    assert response.status_code == 200, response.json
    out = response.json["lines"][0]
    assert (out["laps"], out["total_time"], out["best_lap"], out["gap"]) == (
        31,
        "1:00:01.500",
        "2:17.043",
        None,
    )
    bad = client.put(
        f"/api/v1{results}/results",
        json={"lines": [{**line, "gap": "soon"}]},
        headers=_auth(token, **{"If-Match": response.headers["ETag"]}),
    )
    assert bad.status_code == 422
    assert bad.json["errors"][0]["field"] == "lines[0].gap"


def test_an_export_keeps_timing_fields_and_importing_it_changes_nothing(season, tmp_path) -> None:
    season.build_2024()
    assert season.sheet(f"/championships/{NEW}/rounds/1/sessions/race-1", SHEET).status_code == 200
    app = season.client.application
    runner = app.test_cli_runner()
    assert runner.invoke(args=["data", "export", str(tmp_path / "out")]).exit_code == 0
    text = (tmp_path / "out/championships" / f"{NEW}.yaml").read_text(encoding="utf-8")
    assert "total_time: '1:02:03.456'" in text or 'total_time: "1:02:03.456"' in text
    assert (
        "gap: +1 lap" in text and "length_m: 5842" in (tmp_path / "out/circuits.yaml").read_text()
    )
    counts = store_counts(app)
    result = runner.invoke(args=["data", "import", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "0 change(s)" in result.output
    assert store_counts(app) == counts


def test_a_results_token_imports_sheets_for_its_championship_only(season) -> None:
    season.build_2024()
    app = season.client.application
    results_only = new_token(app, "--championship", NEW, "--permission", "results", name="timing")
    other = new_token(app, "--championship", "other-2024", "--permission", "results", name="x")
    path = f"/championships/{NEW}/rounds/1/sessions/race-1"
    timing = SeasonActions(season.client, results_only)
    assert SeasonActions(season.client, other).sheet(path, SHEET).status_code == 403
    assert timing.sheet(path, SHEET, "?create_entries=true").status_code == 403
    assert timing.sheet(path, SHEET).status_code == 200
    response = season.client.post(
        f"/api/v1{path}/results", json={"lines": []}, headers=_auth(results_only)
    )
    assert response.status_code == 415


def test_patch_validation_and_unknown_references_are_422(client, token) -> None:
    actions = SeasonActions(client, token)
    response = actions.patch("/circuits/paul-ricard", {"name": None}, status=422)
    assert response.json["errors"][0]["field"] == "name"
    entries = "/championships/gt4-european-series-2023/entries"
    body = {"slug": "new-car", "team": "no-such-team", "drivers": ["andreas-backman"]}
    response = client.post(f"/api/v1{entries}", json=body, headers=_auth(token))
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "team"
    body = {"slug": "new-car", "drivers": ["andreas-backman", "nobody"]}
    response = client.post(f"/api/v1{entries}", json=body, headers=_auth(token))
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "drivers[1]"
    assert client.get(f"/api/v1{entries}/new-car").status_code == 404


@pytest.mark.parametrize(
    ("sheet", "field"),
    [
        ("POS,NO\n²,41\n", "line 2.STATUS"),
        ("POS,NO\n٣,41\n", "line 2.STATUS"),
        ("POS,NO\n" + "1" * 5000 + ",41\n", "line 2.STATUS"),
        ("POS,NO,LAPS\n1,41,²\n", "line 2.LAPS"),
        ("POS,NO,LAPS\n1,41,١٢\n", "line 2.LAPS"),
        ("POS,NO,LAPS\n1,41," + "9" * 30 + "\n", "line 2.LAPS"),
        ("POS,NO,LAPS\n1,41," + "9" * 5000 + "\n", "line 2.LAPS"),
    ],
)
def test_sheet_numbers_take_ascii_digits_only(season, sheet: str, field: str) -> None:
    # Issue 14: one number rule; str.isdigit() accepts "²" and int() then fails (a 500).
    season.build_2024()
    response = season.sheet(f"/championships/{NEW}/rounds/1/sessions/race-1", sheet)
    assert response.status_code == 422, response.data[:300]
    assert response.json["errors"][0]["field"] == field, response.json
