"""Profile one publish batch after a one-session change and report the news feeds' share.

    python benchmarks/prof_publish_news.py [--scale 1] [--repeat 3] [--top 0]

On the synthetic data set (benchmarks/synthetic.py): publish everything, then ``--repeat``
times: change one session through the write path and drain the publisher under cProfile.
Reports, as medians (min-max) and as ratios to the anchor timed in the same run (a
straightforward icalendar build of ``/calendar.ics``, as in bench_publish.py): the whole
batch, the news feeds' part of it (cumulative time in ``publish.rendering._news``) and the
calls that load the whole championship graph. cProfile slows Python code, so the ratios are
for comparing runs of this script, not the batch's real speed (see bench_publish.py).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_calendar import change_one_session, load_rounds, straightforward_build  # noqa: E402
from synthetic import build  # noqa: E402

from service import create_app  # noqa: E402
from service.publish import publisher  # noqa: E402

# (label, file suffix, function name) of the profile entries reported.
WATCHED = (
    ("news feeds (rendering._news)", "publish/rendering.py", "_news"),
    ("whole graph (queries.all_championships)", "domain/queries.py", "all_championships"),
)


def cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    """Cumulative seconds of the function ``name`` defined in a file ending with ``suffix``."""
    total = 0.0
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if function == name and filename.endswith(suffix):
            total += row[3]
    return total


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):.3f} ({min(samples):.3f}–{max(samples):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=0, help="also print the N costliest calls")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "AUTO_SEED": False,
                "FEED_DOMAIN": "bench.gridfeed.example",
                "PUBLISH_IN_PROCESS": "0",
                "PUBLISH_DIR": str(Path(tmp) / "published"),
            }
        )
        sessions = build(app, championships=20 * args.scale)
        publisher.publish_everything(app, "prof")
        change_one_session(app, 1)
        publisher.drain(app, "prof")  # warm the caches as a running worker has them
        _session, rounds = load_rounds(app)
        anchor: list[float] = []
        batch: list[float] = []
        watched: dict[str, list[float]] = {label: [] for label, _, _ in WATCHED}
        last: pstats.Stats | None = None
        for step in range(args.repeat):
            start = time.perf_counter()
            straightforward_build(rounds)
            anchor.append(time.perf_counter() - start)
            change_one_session(app, step + 2)
            profile = cProfile.Profile()
            start = time.perf_counter()
            profile.enable()
            publisher.drain(app, "prof")
            profile.disable()
            batch.append(time.perf_counter() - start)
            last = pstats.Stats(profile)
            for label, suffix, name in WATCHED:
                watched[label].append(cumulative(last, suffix, name))
        base = statistics.median(anchor)
        print(f"Synthetic data x{args.scale}: {sessions} sessions; {args.repeat} repeats;")
        print("seconds under cProfile, median (min–max); ratio = median / anchor median\n")
        print("| what | seconds | ratio to anchor | share of batch |")
        print("| --- | ---: | ---: | ---: |")
        print(f"| anchor: straightforward icalendar build | {summary(anchor)} | 1.00 | |")
        whole = statistics.median(batch)
        print(
            f"| publish batch after a one-session change | {summary(batch)} | "
            f"{whole / base:.2f} | 100 % |"
        )
        for label, samples in watched.items():
            median = statistics.median(samples)
            print(
                f"| {label} | {summary(samples)} | {median / base:.3f} | "
                f"{100 * median / whole:.0f} % |"
            )
        if args.top and last is not None:
            last.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
