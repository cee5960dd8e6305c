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
import shutil
import sys
from pathlib import Path

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import create_app
from service.store.engine import get_store
from service.writes import write

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"

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


def scratch_app(db_path: Path) -> Flask:
    """An app on an empty, migrated scratch database (nothing seeded)."""
    if db_path.exists():
        db_path.unlink()
    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{db_path}",
            "AUTO_SEED": False,
            "FEED_DOMAIN": "bench.gridfeed.example",
        }
    )


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


def cached_database(target: Path, scale: int = 1) -> Path:
    """The synthetic data set at ``scale`` (x ``scale`` championships) as a SQLite file at
    ``target``: built once through the write path, then copied from benchmarks/.cache/.

    The cache is keyed by this file and the migrations, so a schema change rebuilds it.
    """
    sources = [Path(__file__), *sorted((ROOT / "service/store/migrations/versions").glob("*.py"))]
    key = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    cached = CACHE / f"synthetic-x{scale}-{key}.sqlite3"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        building = cached.with_suffix(".building")
        app = scratch_app(building)
        build(app, championships=20 * scale)
        engine = get_store(app).engine
        with engine.connect() as conn:  # fold the WAL into the file before copying it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        building.replace(cached)
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
