"""Series calendars show the current and the next season: at New Year they change with no
write, and the running worker republishes them (once a year, whatever the number of passes)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import vobject
from flask.testing import FlaskClient

from service.notify.worker import Worker

from .conftest import make_app, new_token

GT4 = "gt4-european-series-2023"
SERIES_ICS = "/series/gt4-european-series/calendar.ics"
NEW_YEARS_EVE = dt.datetime(2030, 12, 31, 23, 59, 30, tzinfo=dt.UTC)
NEW_YEAR = dt.datetime(2031, 1, 1, 0, 0, 30, tzinfo=dt.UTC)


def _series_years(client: FlaskClient) -> set[int]:
    response = client.get(SERIES_ICS)
    assert response.status_code == 200, response.status_code
    calendar = vobject.readOne(response.get_data(as_text=True))
    return {event.dtstart.value.year for event in calendar.contents.get("vevent", [])}


def _waiting_jobs(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as db:
        return [scope for (scope,) in db.execute("SELECT scope FROM publish_jobs ORDER BY scope")]


def test_the_worker_moves_series_calendars_on_at_new_year(tmp_path: Path) -> None:
    db_path = tmp_path / "years.sqlite3"
    # The worker alone publishes (as on PostgreSQL), with the clock it is given.
    app = make_app(db_path, PUBLISH_IN_PROCESS="0")
    assert app.test_cli_runner().invoke(args=["publish"]).exit_code == 0
    client = app.test_client()
    headers = {"Authorization": f"Bearer {new_token(app)}"}
    source = GT4
    for season in (2030, 2031, 2032):
        slug = f"gt4-european-series-{season}"
        copied = client.post(
            f"/api/v1/championships/{source}/copy",
            json={"slug": slug, "season": season},
            headers=headers,
        )
        assert copied.status_code == 201, copied.json
        source = slug

    Worker(app, clock=lambda: NEW_YEARS_EVE).run_once()
    assert _series_years(client) == {2030, 2031}
    assert _waiting_jobs(db_path) == []

    at_new_year = Worker(app, clock=lambda: NEW_YEAR)
    at_new_year.run_once()
    assert _series_years(client) == {2031, 2032}
    # Once a year: later passes (this worker or another) queue nothing more.
    at_new_year.housekeeping()
    Worker(app, clock=lambda: NEW_YEAR + dt.timedelta(hours=5)).housekeeping()
    assert _waiting_jobs(db_path) == []
