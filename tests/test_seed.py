"""The shipped data set, read back from the store of an app after its first start."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from service.domain.models import Article, Championship, Competitor, Round, Team
from service.store.engine import get_store

from .conftest import make_app


def _championship(session, slug: str) -> Championship:
    return session.scalar(select(Championship).where(Championship.slug == slug))


def test_first_start_creates_and_seeds_the_database(tmp_path: Path) -> None:
    db_file = tmp_path / "instance" / "first.sqlite3"
    app = make_app(db_file)
    assert db_file.exists()
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.data.startswith(b"ok data_version=")
    # A restart does not import again: the data version stays where the seed left it.
    version = response.data
    again = make_app(db_file).test_client().get("/healthz").data
    assert again == version


def test_gt4_european_series_calendar(app) -> None:
    expected = [
        (1, "monza", "IT", "Europe/Rome", dt.date(2023, 4, 21), dt.date(2023, 4, 23)),
        (2, "paul-ricard", "FR", "Europe/Paris", dt.date(2023, 6, 2), dt.date(2023, 6, 4)),
        (
            3,
            "spa-francorchamps",
            "BE",
            "Europe/Brussels",
            dt.date(2023, 6, 29),
            dt.date(2023, 7, 2),
        ),
        (4, "misano", "IT", "Europe/Rome", dt.date(2023, 7, 14), dt.date(2023, 7, 16)),
        (5, "hockenheim", "DE", "Europe/Berlin", dt.date(2023, 9, 1), dt.date(2023, 9, 3)),
        (6, "barcelona", "ES", "Europe/Madrid", dt.date(2023, 9, 29), dt.date(2023, 10, 1)),
    ]
    with get_store(app).sessions() as session:
        ch = _championship(session, "gt4-european-series-2023")
        assert ch.season == 2023
        got = [
            (
                r.number,
                r.circuit.slug,
                r.circuit.country_code,
                r.circuit.timezone,
                r.start_date,
                r.end_date,
            )
            for r in ch.rounds
        ]
        assert got == expected
        paul_ricard = ch.rounds[1]
        assert paul_ricard.circuit.locality == "near Marseille"
        assert paul_ricard.field_size == 57


def test_adac_gt4_germany_round_two_at_zandvoort(app) -> None:
    with get_store(app).sessions() as session:
        ch = _championship(session, "adac-gt4-germany-2023")
        assert [(r.number, r.circuit.slug) for r in ch.rounds] == [(2, "zandvoort")]
        zandvoort = ch.rounds[0]
        assert (zandvoort.start_date, zandvoort.end_date) == (
            dt.date(2023, 6, 23),
            dt.date(2023, 6, 25),
        )
        assert zandvoort.circuit.timezone == "Europe/Amsterdam"
        assert zandvoort.circuit.locality == "near Amsterdam"
        # Entered, but the release does not say with which team or car.
        [entry] = ch.entries
        assert [c.slug for c in entry.competitors] == ["andreas-backman", "jessica-backman"]
        assert entry.team is None and entry.car is None


def test_siblings_share_one_car_with_racing_one(app) -> None:
    with get_store(app).sessions() as session:
        names = {c.slug: c.name for c in session.scalars(select(Competitor))}
        assert names == {"andreas-backman": "Andreas Bäckman", "jessica-backman": "Jessica Bäckman"}
        team = session.scalar(select(Team).where(Team.slug == "racing-one"))
        assert team.country_code == "DE"
        [entry] = _championship(session, "gt4-european-series-2023").entries
        assert entry.team.slug == "racing-one"
        assert entry.car == "Aston Martin Vantage GT4"
        assert [c.slug for c in entry.competitors] == ["andreas-backman", "jessica-backman"]


def test_paul_ricard_sessions_and_results(app) -> None:
    with get_store(app).sessions() as session:
        ch = _championship(session, "gt4-european-series-2023")
        round_ = session.scalar(select(Round).where(Round.championship == ch, Round.number == 2))
        got = {}
        for s in round_.sessions:
            [line] = s.results
            got[s.name] = (
                s.kind,
                s.local_date,
                s.local_time,
                s.time_note,
                line.position,
                line.outcome,
                line.driver.slug if line.driver else None,
                line.note,
            )
        saturday = dt.date(2023, 6, 3)
        assert got == {
            "Free Practice 1": ("practice", None, None, None, 7, "classified", None, None),
            "Free Practice 2": ("practice", None, None, None, 45, "classified", None, None),
            "Timed Qualifying 1": (
                "qualifying",
                saturday,
                None,
                "morning",
                42,
                "classified",
                "jessica-backman",
                None,
            ),
            "Timed Qualifying 2": (
                "qualifying",
                saturday,
                None,
                "morning",
                13,
                "classified",
                "andreas-backman",
                None,
            ),
            "Race 1": (
                "race",
                saturday,
                None,
                "afternoon",
                None,
                "DNF",
                None,
                "Retired on lap 1 after an incident damaged the front of the car.",
            ),
            "Race 2": (
                "race",
                None,
                None,
                None,
                None,
                "DNS",
                None,
                "The car was too damaged to start.",
            ),
        }
        # No clock time is stated anywhere in the release: none may appear in the store.
        assert all(s.local_time is None for r in ch.rounds for s in r.sessions)


def test_press_release_article(app) -> None:
    with get_store(app).sessions() as session:
        [article] = session.scalars(select(Article)).all()
    assert article.slug == "tough-weekend-for-the-backman-siblings-in-france"
    assert article.title == "Tough weekend for the Bäckman siblings in France"
    assert article.status == "published"
    assert article.published_at == dt.datetime(2023, 6, 5, 12, tzinfo=dt.UTC)
    assert "not stated" in article.note
    assert article.championships == ["gt4-european-series-2023", "adac-gt4-germany-2023"]
    assert article.rounds == ["gt4-european-series-2023/2", "adac-gt4-germany-2023/2"]
    assert article.competitors == ["andreas-backman", "jessica-backman"]
    assert "we will come back even stronger for the next race" in article.body_markdown
    assert "Jessica qualified 42nd in the first qualifying" in article.body_markdown
