"""The feed-response overhead of subscriber counting: counting on against counting off.

    python benchmarks/bench_stats.py [--rounds 15] [--batch 200]

Two apps on copies of the same seeded database, one with ``STATS_ENABLED`` and one without
(the anchor), serve the same warm calendar and news requests through WSGI, in alternating
batches within one run, each request from a different address so that the counter hashes and
grows a set every time. Times are this process's CPU time (``time.process_time``): the
WSGI calls run in this one thread, and CPU time does not count the waits other processes on
a shared machine impose. Prints, per response kind, the median time per request of each and
the ratio on/off as a median with its interquartile range over the rounds. Not a test:
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import create_app
from service.stats.daily import flush

ROOT = Path(__file__).resolve().parent.parent
FEEDS = {
    "calendar 200": ("/championships/gt4-european-series-2023/calendar.ics", False),
    "calendar 304": ("/championships/gt4-european-series-2023/calendar.ics", True),
    "news 200": ("/championships/gt4-european-series-2023/news.atom", False),
}
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.0"


def make(path: Path, counting: bool):
    """An app on ``path`` with counting on or off, warmed and with salts loaded."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{path}",
            "DATA_DIR": str(ROOT / "data"),
            "AUTO_SEED": False,
            "STATS_ENABLED": counting,
        }
    )
    flush(app)  # the flusher loads today's salt ahead, as in production
    return app


def batch(client, url: str, etag: str | None, size: int, offset: int) -> float:
    """Seconds per request over ``size`` requests from ``size`` different addresses."""
    headers = {"User-Agent": AGENT, **({"If-None-Match": etag} if etag else {})}
    started = time.process_time()
    for n in range(size):
        address = (
            f"10.{(offset + n) // 65536 % 256}.{(offset + n) // 256 % 256}.{(offset + n) % 256}"
        )
        client.get(url, headers=headers, environ_base={"REMOTE_ADDR": address})
    return (time.process_time() - started) / size


def spread(values: list[float]) -> str:
    """Median (interquartile range)."""
    q1, median, q3 = statistics.quantiles(values, n=4)
    return f"{median:.3f} ({q1:.3f}–{q3:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seeded = Path(tmp) / "seeded.sqlite3"
        create_app(
            {"TESTING": True, "DATABASE_URL": f"sqlite:///{seeded}", "DATA_DIR": str(ROOT / "data")}
        )
        # "control" is a second app with counting off: on/off means something only next to
        # control/off, the difference two identical apps show in the same run.
        apps = {}
        for name, counting in (("on", True), ("off", False), ("control", False)):
            shutil.copy(seeded, Path(tmp) / f"{name}.sqlite3")
            apps[name] = make(Path(tmp) / f"{name}.sqlite3", counting)
        clients = {name: app.test_client() for name, app in apps.items()}
        print(f"{args.rounds} rounds of {args.batch} requests each, rotated; CPU µs per request\n")
        print(
            "| response | counting off (anchor) | counting on | ratio on/off, median (IQR) "
            "| control: off again / off, median (IQR) |"
        )
        print("| --- | ---: | ---: | ---: | ---: |")
        offset = 0
        for label, (url, conditional) in FEEDS.items():
            etags = {
                n: c.get(url).headers["ETag"] if conditional else None for n, c in clients.items()
            }
            for client in clients.values():  # warm both
                batch(client, url, None, 20, 0)
            times: dict[str, list[float]] = {name: [] for name in clients}
            ratios, controls = [], []
            for round_ in range(args.rounds):
                names = list(clients)
                order = names[round_ % 3 :] + names[: round_ % 3]  # rotate who goes first
                for name in order:
                    times[name].append(batch(clients[name], url, etags[name], args.batch, offset))
                    offset += args.batch
                ratios.append(times["on"][-1] / times["off"][-1])
                controls.append(times["control"][-1] / times["off"][-1])
            print(
                f"| {label} | {statistics.median(times['off']) * 1e6:.0f} | "
                f"{statistics.median(times['on']) * 1e6:.0f} | {spread(ratios)} | "
                f"{spread(controls)} |"
            )


if __name__ == "__main__":
    main()
