"""Benchmark classification sheets: a CSV import against the JSON PUT of the same results.

    python benchmarks/bench_sheet_import.py [--repeat 9] [--cars 57]

One app on a temporary SQLite file, a championship with ``--cars`` entries built through the
API. Each run publishes a changed classification of every car (so each run writes), once as
the anchor (``PUT …/results`` with JSON lines naming the entries) and once as a timing sheet
(``POST …/results`` with text/csv, matched by car number), then imports the same sheet
again (nothing to write). Medians with the interquartile range, and each median as a ratio
of the anchor's. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import create_app

ROOT = Path(__file__).resolve().parent.parent
SLUG = "bench-2024"
SESSION = f"/api/v1/championships/{SLUG}/rounds/1/sessions/race-1"


def quartiles(samples: list[float]) -> tuple[float, float, float]:
    """Median and interquartile range."""
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return median, q1, q3


def timed(action: Callable[[], Any]) -> float:
    """Milliseconds one request takes; it must succeed, or the figure would mean nothing."""
    start = time.perf_counter()
    response = action()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.json
    return elapsed


def build(client, auth: dict[str, str], cars: int) -> None:
    """A championship with ``cars`` entries, one round and one race, through the API."""

    def post(path: str, body: dict) -> None:
        response = client.post(f"/api/v1{path}", json=body, headers=auth)
        assert response.status_code == 201, response.json

    post("/championships", {"slug": SLUG, "name": "Bench", "series": "Bench", "season": 2024})
    post(
        "/circuits", {"slug": "ring", "name": "Ring", "country": "DE", "timezone": "Europe/Berlin"}
    )
    post("/teams", {"slug": "team", "name": "Team"})
    for n in range(1, cars + 1):
        post("/competitors", {"slug": f"driver-{n}", "name": f"Driver Number{n}"})
        post(
            f"/championships/{SLUG}/entries",
            {"slug": f"car-{n}", "team": "team", "number": str(n), "drivers": [f"driver-{n}"]},
        )
    post(
        f"/championships/{SLUG}/rounds",
        {"number": 1, "circuit": "ring", "start_date": "2024-05-03", "end_date": "2024-05-05"},
    )
    post(
        f"/championships/{SLUG}/rounds/1/sessions", {"slug": "race-1", "name": "R", "kind": "race"}
    )


def lap(ms: int) -> str:
    """Milliseconds as m:ss.fff."""
    return f"{ms // 60000}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def sheet(cars: int, run: int) -> bytes:
    """A classification of every car; ``run`` shifts the best laps so each run changes."""
    rows = ["POS,NO,DRIVERS,LAPS,BEST LAP"]
    rows += [
        f"{p},{p},Driver Number{p},30,{lap(120000 + p * 10 + run)}" for p in range(1, cars + 1)
    ]
    return ("\n".join(rows) + "\n").encode()


def json_lines(cars: int, run: int) -> dict:
    """The same classification as JSON lines."""
    lines = [
        {"entry": f"car-{p}", "position": p, "laps": 30, "best_lap": lap(120000 + p * 10 + run)}
        for p in range(1, cars + 1)
    ]
    return {"lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--cars", type=int, default=57)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "DATA_DIR": str(ROOT / "data"),
                "AUTO_SEED": False,
                "RUN_WORKER_IN_PROCESS": "never",
            }
        )
        result = app.test_cli_runner().invoke(args=["tokens", "create", "bench"])
        token = result.output.strip().splitlines()[-1]
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        build(client, auth, args.cars)
        samples: dict[str, list[float]] = {"json": [], "csv": [], "csv again": []}

        def etag() -> str:
            return client.get(f"{SESSION}/results").headers["ETag"]

        run = 0
        for _ in range(args.repeat):
            run += 1
            body = json_lines(args.cars, run)
            headers = {**auth, "If-Match": etag()}
            put = partial(client.put, f"{SESSION}/results", json=body, headers=headers)
            samples["json"].append(timed(put))
            run += 1
            headers = {**auth, "If-Match": etag(), "Content-Type": "text/csv"}
            post = partial(
                client.post, f"{SESSION}/results", data=sheet(args.cars, run), headers=headers
            )
            samples["csv"].append(timed(post))
            samples["csv again"].append(timed(post))
    anchor = quartiles(samples["json"])[0]
    print(f"{args.cars} cars, {args.repeat} runs each; ms median (interquartile range)\n")
    print("| write | median ms (IQR) | ratio to JSON PUT |")
    print("| --- | --- | --- |")
    for label, values in samples.items():
        median, q1, q3 = quartiles(values)
        print(f"| {label} | {median:.1f} ({q1:.1f}–{q3:.1f}) | {median / anchor:.2f} |")


if __name__ == "__main__":
    main()
