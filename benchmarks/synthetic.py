"""Build the large synthetic data set in a scratch database, through the real write path.

20 championships x 24 rounds x 8 sessions (3,840 sessions) by default, at circuits in time
zones spread around the world, every session timed, a share with results. Used by the
benchmark scripts; run it alone to make a database to look at:

    python benchmarks/synthetic.py /tmp/synthetic.sqlite3
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import create_app
from service.store.engine import get_store
from service.writes import write

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
# Built databases, shared by every checkout on this machine (the x16 build takes minutes):
# keyed by what decides their content (the build's code), not by the checkout.
DATA_CACHE = Path(tempfile.gettempdir()) / "gridfeed-bench-cache"

ZONES = (
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Asia/Singapore",
    "Australia/Melbourne",
    "Australia/Perth",
    "Pacific/Auckland",
    "Africa/Johannesburg",
    "Asia/Bahrain",
    "America/Montreal",
    "Europe/Istanbul",
    "Asia/Baku",
)
SESSION_PLAN = (
    ("free-practice-1", "Free Practice 1", "practice", 0, "10:00", 60),
    ("free-practice-2", "Free Practice 2", "practice", 0, "15:00", 60),
    ("qualifying-1", "Qualifying 1", "qualifying", 1, "09:30", 20),
    ("qualifying-2", "Qualifying 2", "qualifying", 1, "10:00", 20),
    ("race-1", "Race 1", "race", 1, "15:30", 60),
    ("warm-up", "Warm-up", "practice", 2, "09:00", 20),
    ("race-2", "Race 2", "race", 2, "13:30", 60),
    ("podium", "Podium & press", "other", 2, "15:00", 30),
)


def scratch_app(db_path: Path, publish: bool = True) -> Flask:
    """An app on an empty, migrated scratch database (nothing seeded). With ``publish``
    False its writes only queue their publish jobs, for a release step to cover."""
    if db_path.exists():
        db_path.unlink()
    config = {
        "DATABASE_URL": f"sqlite:///{db_path}",
        "AUTO_SEED": False,
        "FEED_DOMAIN": "bench.gridfeed.example",
    }
    if not publish:
        config["PUBLISH_IN_PROCESS"] = "0"
    return create_app(config)


def build(app: Flask, championships: int = 20, rounds: int = 24, sessions: int = 8) -> int:
    """Write the synthetic data set through the write path; return the number of sessions."""
    plan = SESSION_PLAN[:sessions]
    made = 0
    with write(app, actor="benchmark") as w:
        circuits = [
            w.upsert_circuit(
                f"circuit-{i:02d}",
                {
                    "name": f"Circuit {i:02d} ({zone.split('/')[-1].replace('_', ' ')})",
                    "locality": zone.split("/")[-1].replace("_", " "),
                    "country_code": "XX",
                    "timezone": zone,
                    "latitude": (i * 7.5) % 90 - 45,
                    "longitude": (i * 15.0) % 360 - 180,
                },
            )
            for i, zone in enumerate(ZONES)
        ]
        team = w.upsert_team("bench-racing", {"name": "Bench Racing", "country_code": None})
        drivers = [
            w.upsert_competitor(
                f"driver-{i:02d}", {"name": f"Driver Ä{i:02d}", "country_code": None}
            )
            for i in range(4)
        ]
        for c in range(championships):
            season = 2025
            champ = w.upsert_championship(
                f"series-{c:02d}-{season}",
                {
                    "name": f"Series {c:02d} {season}",
                    "series": f"Series {c:02d}",
                    "season": season,
                    "short_name": None,
                    "description": None,
                    "website": None,
                },
            )
            entry = w.upsert_entry(
                champ,
                "bench-car",
                {"team": team, "car": "Bench GT4", "number": "1", "car_class": None},
                drivers[c % 2 * 2 : c % 2 * 2 + 2],
            )
            for r in range(1, rounds + 1):
                start = dt.date(season, 1, 3) + dt.timedelta(days=7 * (r - 1) + c % 7)
                round_ = w.upsert_round(
                    champ,
                    r,
                    {
                        "name": None,
                        "circuit": circuits[(c + r) % len(circuits)],
                        "start_date": start,
                        "end_date": start + dt.timedelta(days=2),
                        "status": "scheduled",
                        "field_size": None,
                        "note": None,
                    },
                )
                for position, (slug, name, kind, day, time, minutes) in enumerate(plan):
                    session = w.upsert_session(
                        round_,
                        slug,
                        {
                            "position": position,
                            "name": name,
                            "kind": kind,
                            "local_date": start + dt.timedelta(days=day),
                            "local_time": dt.time.fromisoformat(time),
                            "duration_minutes": minutes,
                            "time_note": None,
                            "status": "scheduled",
                        },
                    )
                    made += 1
                    if kind == "race" and r % 3 == 0:
                        w.set_results(
                            session,
                            "published",
                            [{"entry": entry, "position": r % 20 + 1, "outcome": "classified"}],
                        )
    return made


def data_key() -> str:
    """The version of what :func:`build` writes: its source and its plan. Not the schema: a
    copy made before a new migration is brought up to date by the migrations on its first
    start (``create_app`` or ``flask db upgrade``), as a deployment's database is."""
    parts = ["built unpublished", inspect.getsource(build), repr((ZONES, SESSION_PLAN))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cached_database(target: Path, scale: int = 1) -> Path:
    """The synthetic data set at ``scale`` (x ``scale`` championships) as a SQLite file at
    ``target``: built once through the write path, then copied from ``DATA_CACHE``.

    Nothing is published during the build (two thirds of its time at x1 went to the
    in-process publication after its one commit): the file holds the data and the publish
    jobs its writes queued, as a fresh deployment before its release step.

    The cache is keyed by :func:`data_key` (the build's code). Each build writes
    a file of its own and renames it into place, so concurrent runs never share a half-built
    file.
    """
    cached = DATA_CACHE / f"synthetic-x{scale}-{data_key()}.sqlite3"
    if not cached.exists():
        DATA_CACHE.mkdir(parents=True, exist_ok=True)
        building = cached.with_name(f"{cached.stem}.{os.getpid()}.building")
        started = time.monotonic()
        print(f"- building the x{scale} data set into {cached} ...", file=sys.stderr, flush=True)
        app = scratch_app(building, publish=False)
        build(app, championships=20 * scale)
        engine = get_store(app).engine
        with engine.connect() as conn:  # fold the WAL into the file before copying it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        building.replace(cached)
        for leftover in building.parent.glob(f"{building.name}*"):  # the migration lock file
            leftover.unlink()
        took = time.monotonic() - started
        print(f"- x{scale} data set built in {took:.0f} s", file=sys.stderr, flush=True)
    shutil.copy(cached, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="scratch SQLite file (overwritten)")
    parser.add_argument("--championships", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--sessions", type=int, default=8)
    args = parser.parse_args()
    app = scratch_app(args.db)
    made = build(app, args.championships, args.rounds, args.sessions)
    print(f"{made} sessions written to {args.db}")


if __name__ == "__main__":
    main()
