"""Benchmark what the trust checks add to an API write.

    python benchmarks/bench_trust.py [--repeat 9] [--writes 60]

1. API writes: ``--writes`` PATCHes of a session's time (bearer token, If-Match) through the
   Flask test client, with the rate limit counted (the default) and, as the anchor in the same
   run, with rate limits off. Authorization runs in both.
2. Authorization alone: the before-request decision (token check, stored record, decision)
   for the same PATCH, timed on its own, as a share of the whole write.
Medians with the interquartile range, as ratios against each anchor. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import create_app
from service.api.authorization import authorize_write

ROOT = Path(__file__).resolve().parent.parent
SESSION = "/api/v1/championships/gt4-european-series-2023/rounds/2/sessions/race-1"
KEY = "bench-trust-" + "k" * 32


def quartiles(samples: list[float]) -> tuple[float, float, float]:
    """Median and interquartile range."""
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return median, q1, q3


def app_on(db: Path, **config: object):
    """An app on a copy of the seeded database."""
    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{db}",
            "DATA_DIR": str(ROOT / "data"),
            "SECRET_KEY": KEY,
            "RUN_WORKER_IN_PROCESS": "0",
            **config,
        },
        instance_path=str(db.parent),
    )


def token_for(app) -> str:
    """A token for everything, made with the CLI."""
    result = app.test_cli_runner().invoke(args=["tokens", "create", "bench"])
    return result.output.strip().splitlines()[-1]


def per_call(run: Callable[[], None], count: int, repeat: int) -> list[float]:
    """Seconds per call of ``run``, one sample per batch of ``count``."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(count):
            run()
        samples.append((time.perf_counter() - started) / count)
    return samples


def writer(app, token: str) -> Callable[[], None]:
    """A PATCH toggling race 1's time, with the ETag it read last."""
    client = app.test_client()
    state = {"etag": client.get(SESSION).headers["ETag"], "n": 0}

    def run() -> None:
        state["n"] += 1
        time_of_day = "14:00" if state["n"] % 2 else "15:00"
        response = client.patch(
            SESSION,
            json={"local_date": "2023-06-04", "local_time": time_of_day},
            headers={"Authorization": f"Bearer {token}", "If-Match": state["etag"]},
        )
        assert response.status_code == 200, response.json
        state["etag"] = response.headers["ETag"]

    return run


def report(name: str, samples: list[float], anchor: list[float]) -> None:
    median, q1, q3 = quartiles(samples)
    a_median, a_q1, a_q3 = quartiles(anchor)
    print(
        f"{name}: {median * 1000:.2f} ms (IQR {q1 * 1000:.2f}-{q3 * 1000:.2f}) against "
        f"{a_median * 1000:.2f} ms (IQR {a_q1 * 1000:.2f}-{a_q3 * 1000:.2f}): "
        f"ratio {median / a_median:.2f} ({q1 / a_q3:.2f}-{q3 / a_q1:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--writes", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seeded = Path(tmp) / "seeded" / "db.sqlite3"
        seeded.parent.mkdir()
        app_on(seeded)
        apps = {}
        for name, config in (("limited", {}), ("unlimited", {"RATELIMIT_ENABLED": False})):
            db = Path(tmp) / name / "db.sqlite3"
            db.parent.mkdir()
            shutil.copy(seeded, db)
            # Room for every write of the run: the limit is counted, never reached.
            apps[name] = app_on(
                db, AUTO_SEED=False, RATE_LIMIT_API_WRITES="1000000/minute", **config
            )
        tokens = {name: token_for(app) for name, app in apps.items()}
        runs = {name: writer(app, tokens[name]) for name, app in apps.items()}
        limited, unlimited = [], []
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            limited += per_call(runs["limited"], args.writes, 1)
            unlimited += per_call(runs["unlimited"], args.writes, 1)
        print(f"{args.repeat} batches of {args.writes}; median (IQR); ratio (IQR bounds)\n")
        report("API write, rate limit counted", limited, unlimited)

        app, token = apps["unlimited"], tokens["unlimited"]
        headers = {"Authorization": f"Bearer {token}", "If-Match": '"x"'}
        body = {"local_time": "14:00"}

        def decide_only() -> None:
            with app.test_request_context(SESSION, method="PATCH", json=body, headers=headers):
                authorize_write()

        decision = per_call(decide_only, args.writes, args.repeat)
        report("authorization decision alone, against the whole write", decision, unlimited)


if __name__ == "__main__":
    main()
