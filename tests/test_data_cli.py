"""``flask data validate / import / export``, through the CLI runner, on real files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from service.domain.models import Change, Session
from service.store.engine import get_store

from .helpers import copy_data, edit_yaml, store_counts

GT4 = Path("championships/gt4-european-series-2023.yaml")


def _validate(runner, *paths: Path):
    return runner.invoke(args=["data", "validate", *map(str, paths)])


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_shipped_data_validates(runner) -> None:
    result = _validate(runner, Path(__file__).parent.parent / "data")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


# Each case: a YAML file, the line and field expected in the message, and words of the reason.
CASES = {
    "unknown time zone": (
        """
        circuits:
          - slug: nowhere-ring
            name: Nowhere Ring
            country: DE
            timezone: Europe/Nowhere
        """,
        5,
        "circuits[0].timezone",
        "unknown time zone 'Europe/Nowhere'",
    ),
    "end before start": (
        """
        championship: {slug: cup-2024, name: Cup, series: Cup, season: 2024}
        rounds:
          - number: 1
            circuit: monza
            start: 2024-05-10
            end: 2024-05-08
        """,
        6,
        "rounds[0].end",
        "end 2024-05-08 is before start 2024-05-10",
    ),
    "duplicate slug": (
        """
        competitors:
          - slug: kim-driver
            name: Kim Driver
          - slug: kim-driver
            name: Kim Driver Again
        """,
        4,
        "competitors[1].slug",
        "duplicate competitor slug 'kim-driver' (first defined at ",
    ),
    "session outside its round": (
        """
        championship: {slug: cup-2024, name: Cup, series: Cup, season: 2024}
        rounds:
          - number: 1
            circuit: monza
            start: 2024-05-10
            end: 2024-05-12
            sessions:
              - slug: race-1
                name: Race 1
                kind: race
                date: 2024-05-13
        """,
        11,
        "rounds[0].sessions[0].date",
        "outside its round's dates",
    ),
    "result for a competitor not entered": (
        """
        championship: {slug: cup-2024, name: Cup, series: Cup, season: 2024}
        entries:
          - slug: car-one
            drivers: [andreas-backman]
        rounds:
          - number: 1
            circuit: monza
            start: 2024-05-10
            end: 2024-05-12
            sessions:
              - slug: race-1
                name: Race 1
                kind: race
                results:
                  lines:
                    - entry: car-one
                      driver: jessica-backman
                      position: 1
        """,
        17,
        "rounds[0].sessions[0].results.lines[0].driver",
        "'jessica-backman' is not a driver of entry 'car-one'",
    ),
    "malformed date": (
        """
        championship: {slug: cup-2024, name: Cup, series: Cup, season: 2024}
        rounds:
          - number: 1
            circuit: monza
            start: 2024-02-30
            end: 2024-03-02
        """,
        5,
        "rounds[0].start",
        "'2024-02-30' is not a valid date",
    ),
    "unknown field": (
        """
        championship:
          slug: cup-2024
          name: Cup
          series: Cup
          season: 2024
          colour: red
        """,
        6,
        "championship.colour",
        "unknown field 'colour'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_reports_file_line_field_and_reason(runner, tmp_path: Path, case: str) -> None:
    text, line, field, reason = CASES[case]
    path = _write(tmp_path / "bad.yaml", text)
    result = _validate(runner, path)
    assert result.exit_code == 1
    assert f"{path}:{line}: {field}: " in result.output
    assert reason in result.output


def test_three_mistakes_three_messages_nothing_imported(app, runner, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "three.yaml",
        """
        championship:
          slug: cup-2024
          name: Cup
          series: Cup
          season: 2024
          colour: red
        rounds:
          - number: 1
            circuit: monza
            start: 2024-05-10
            end: 2024-05-08
          - number: 2
            circuit: atlantis
            start: 2024-06-01
            end: 2024-06-02
        """,
    )
    before = store_counts(app)
    result = _validate(runner, path)
    assert result.exit_code == 1
    messages = [ln for ln in result.output.splitlines() if ln.startswith(str(path))]
    assert messages == [
        f"{path}:6: championship.colour: unknown field 'colour'; allowed: description, name, "
        "season, series, short_name, slug, website",
        f"{path}:11: rounds[0].end: end 2024-05-08 is before start 2024-05-10",
        f"{path}:13: rounds[1].circuit: unknown circuit 'atlantis'",
    ]
    imported = runner.invoke(args=["data", "import", str(path)])
    assert imported.exit_code == 1
    assert "nothing was imported" in imported.output
    assert store_counts(app) == before


def test_failed_import_of_many_files_changes_nothing(app, runner, tmp_path: Path) -> None:
    data = copy_data(tmp_path / "data")
    # One good change (a session gets a time) and one bad file: neither may land.
    edit_yaml(data / GT4, lambda doc: doc["rounds"][1]["sessions"][4].update(time="14:00"))
    _write(
        data / "championships" / "broken.yaml",
        """
        championship: {slug: broken-2024, name: B, series: B, season: 2024}
        rounds:
          - {number: 1, circuit: monza, start: 2024-01-02, end: 2024-01-01}
        """,
    )
    before = store_counts(app)
    result = runner.invoke(args=["data", "import", str(data)])
    assert result.exit_code == 1
    assert "broken.yaml:3: rounds[0].end" in result.output
    assert store_counts(app) == before
    with get_store(app).sessions() as session:
        assert all(s.local_time is None for s in session.scalars(select(Session)))


def test_reimport_is_idempotent(app, runner) -> None:
    before = store_counts(app)
    result = runner.invoke(args=["data", "import", str(Path(__file__).parent.parent / "data")])
    assert result.exit_code == 0, result.output
    assert "0 change(s)" in result.output
    assert store_counts(app) == before


def test_moving_one_session_records_exactly_one_change(app, runner, tmp_path: Path) -> None:
    data = copy_data(tmp_path / "data")

    def move_race_2(doc) -> None:
        race_2 = doc["rounds"][1]["sessions"][5]
        assert race_2["slug"] == "race-2"
        race_2.update(date="2023-06-04", time="14:00", duration=60)

    edit_yaml(data / GT4, move_race_2)
    changes_before, version_before = store_counts(app)
    result = runner.invoke(args=["data", "import", str(data), "--actor", "press-office"])
    assert result.exit_code == 0, result.output
    assert store_counts(app) == (changes_before + 1, version_before + 1)
    with get_store(app).sessions() as session:
        change = session.scalars(select(Change).order_by(Change.id.desc())).first()
        race_2 = session.scalar(select(Session).where(Session.slug == "race-2"))
    assert (change.entity, change.key, change.action) == (
        "session",
        "gt4-european-series-2023/2/race-2",
        "updated",
    )
    assert change.actor == "import:press-office"
    # The whole schedule of the session is recorded, the unchanged status included.
    assert change.before == {
        "local_date": None,
        "local_time": None,
        "fold": 0,
        "duration_minutes": None,
        "status": "scheduled",
    }
    assert change.after == {
        "local_date": "2023-06-04",
        "local_time": "14:00",
        "fold": 0,
        "duration_minutes": 60,
        "status": "scheduled",
    }
    assert change.championship == "gt4-european-series-2023"
    assert change.data_version == version_before + 1
    # The revision (iCal SEQUENCE) went up exactly once.
    assert race_2.revision == 2


def test_yaml_times_and_country_codes_stay_strings(app, runner, tmp_path: Path) -> None:
    data = copy_data(tmp_path / "data")
    edit_yaml(
        data / "people.yaml",
        lambda doc: doc["competitors"].append(
            {"slug": "nils-norway", "name": "Nils", "country": "NO"}
        ),
    )
    text = (
        (data / GT4)
        .read_text(encoding="utf-8")
        .replace(
            "        date: 2023-06-03\n        time_note: afternoon",
            "        date: 2023-06-03\n        time: 14:00\n        time_note: afternoon",
        )
    )
    (data / GT4).write_text(text, encoding="utf-8")
    result = runner.invoke(args=["data", "import", str(data)])
    assert result.exit_code == 0, result.output
    exported = tmp_path / "out"
    assert runner.invoke(args=["data", "export", str(exported)]).exit_code == 0
    people = (exported / "people.yaml").read_text(encoding="utf-8")
    assert "country: 'NO'" in people or 'country: "NO"' in people
    assert "time: '14:00'" in (exported / GT4).read_text(encoding="utf-8")


def test_export_then_import_is_a_no_op(app, runner, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = runner.invoke(args=["data", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / GT4).exists() and (out / "articles").is_dir()
    before = store_counts(app)
    assert _validate(runner, out).exit_code == 0
    reimport = runner.invoke(args=["data", "import", str(out)])
    assert reimport.exit_code == 0, reimport.output
    assert "0 change(s)" in reimport.output
    assert store_counts(app) == before


def test_export_imports_into_an_empty_store_identically(app, empty_app, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert app.test_cli_runner().invoke(args=["data", "export", str(first)]).exit_code == 0
    empty_runner = empty_app.test_cli_runner()
    assert empty_runner.invoke(args=["data", "import", str(first)]).exit_code == 0
    assert empty_runner.invoke(args=["data", "export", str(second)]).exit_code == 0
    for path in sorted(first.rglob("*.yaml")):
        assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path


def test_yaml_syntax_error_names_the_line(runner, tmp_path: Path) -> None:
    path = _write(tmp_path / "syntax.yaml", "circuits:\n  - slug: a\n   name: [unclosed\n")
    result = _validate(runner, path)
    assert result.exit_code == 1
    assert f"{path}:3: (file): YAML syntax error" in result.output


def test_missing_path_is_reported(runner, tmp_path: Path) -> None:
    result = _validate(runner, tmp_path / "nope.yaml")
    assert result.exit_code == 1
    assert "nope.yaml: (file): file not found" in result.output
