"""Why a publisher's memory grows with writes: the sizes of its in-process caches.

Runs the publisher in this process on a copy of the synthetic data set (x1): publishes
everything, then makes one-session writes through the write path, publishing after every
``--burst`` of them as the worker does, and prints after each hundred writes this process's
RSS and the number of entries in the event-facts memo and the VEVENT fragment cache.

    python benchmarks/probe_publisher_memory.py --writes 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import cached_database

SERIES = "series-00-2025"


def rss_mb() -> float:
    """This process's resident set size, in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def move(app, step: int) -> None:
    """Move race 1 of round 1 of the first championship to 12:<step % 60>."""
    from service.domain import queries
    from service.writes import write

    with write(app, actor="probe") as w:
        championship = queries.championship_by_slug(w.session, SERIES)
        round_ = next(r for r in championship.rounds if r.number == 1)
        session = next(s for s in round_.sessions if s.slug == "race-1")
        fields = {
            "name": session.name,
            "kind": session.kind,
            "local_date": session.local_date,
            "local_time": dt.time(12, step % 60),
            "duration_minutes": session.duration_minutes,
        }
        w.upsert_session(round_, session.slug, fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument(
        "--skip-everything",
        action="store_true",
        help="do not publish everything first (a worker's start: only what writes affect)",
    )
    parser.add_argument(
        "--trace", action="store_true", help="print the 12 largest allocation growths (slow)"
    )
    args = parser.parse_args()
    from service import create_app
    from service.publish import publisher

    work = Path(tempfile.mkdtemp(prefix="gridfeed-probe-"))
    db = cached_database(work / "probe.sqlite3", 1)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{db}",
            "AUTO_SEED": False,
            "PUBLISH_IN_PROCESS": "0",
            "RUN_WORKER_IN_PROCESS": "0",
            "PUBLIC_BASE_URL": "http://bench.gridfeed.example",
            "FEED_DOMAIN": "bench.gridfeed.example",
            "PUBLISH_DIR": "",
            "SECRET_KEY": "gridfeed-benchmark-only-" + "0123456789abcdef" * 2,
        }
    )
    started = time.monotonic()
    if args.skip_everything:
        publisher.drain(app, "probe")
    else:
        publisher.publish_everything(app, "probe")
    facts, fragments = publisher.facts_of(app), publisher.fragments_of(app)

    def line(writes: int) -> None:
        print(
            f"| {writes} | {rss_mb():.0f} | {len(facts._items):,} | {len(fragments._items):,} "
            f"| {time.monotonic() - started:.0f} |",
            flush=True,
        )

    print("| writes | RSS MB | facts memo entries | fragment cache entries | s |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    line(0)
    for step in range(1, args.writes + 1):
        move(app, step)
        if step % args.burst == 0:
            publisher.drain(app, "probe")
        if step == 10 and args.trace:
            tracemalloc.start(8)
            first = tracemalloc.take_snapshot()
        if step % 100 == 0 or step == 10:
            line(step)
    if args.trace:
        growth = tracemalloc.take_snapshot().compare_to(first, "traceback")
        for stat in growth[:12]:
            print(f"\n{stat.size_diff / 1e6:+.1f} MB in {stat.count_diff:+,} blocks:")
            print("\n".join(stat.traceback.format()[-8:]))


if __name__ == "__main__":
    main()
