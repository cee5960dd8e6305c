"""Benchmark publishing on the synthetic data set (benchmarks/synthetic.py).

    python benchmarks/bench_publish.py [--repeat 7] [--scale 1]

Measures, in one run, interleaved, as medians with min-max:
- the anchor: a straightforward icalendar build of ``/calendar.ics`` (one ``Calendar``, one
  ``Event`` per event, ``to_ical``) from already loaded rows;
- a one-session change to published bytes: the write through the write path, then the
  publisher's batch (load, facts, render, gzip, store) for every feed it affects, with the
  garbage collector paused during the batch (as the publisher does) and, for comparison,
  left on;
- publishing everything once (the release step).
Prints each as seconds and as a ratio to the anchor. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_calendar import change_one_session, load_rounds, straightforward_build  # noqa: E402
from synthetic import build  # noqa: E402

from service import create_app  # noqa: E402
from service.publish import publisher  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):.3f} ({min(samples):.3f}–{max(samples):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--scale", type=int, default=1, help="x championships (1 = 3,840 sessions)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "AUTO_SEED": False,
                "FEED_DOMAIN": "bench.gridfeed.example",
                "PUBLISH_IN_PROCESS": "0",  # publish explicitly, timed
                "PUBLISH_DIR": str(Path(tmp) / "published"),
            }
        )
        sessions = build(app, championships=20 * args.scale)
        everything = timed(lambda: publisher.publish_everything(app, "bench"))
        _session, rounds = load_rounds(app)
        anchor: list[float] = []
        paused: list[float] = []
        collecting: list[float] = []
        for step in range(args.repeat):
            anchor.append(timed(lambda: straightforward_build(rounds)))
            for label, samples in (("paused", paused), ("on", collecting)):
                # "on": the same batch with the collector left running during it.
                patch = (
                    mock.patch.object(publisher, "collector_paused", nullcontext)
                    if label == "on"
                    else nullcontext()
                )
                with patch:
                    samples.append(
                        timed(
                            lambda s=step, lbl=label: (
                                change_one_session(app, 2 * s + 1 + (lbl == "on")),
                                publisher.drain(app, "bench"),
                            )
                        )
                    )
        base = statistics.median(anchor)
        print(f"Synthetic data x{args.scale}: {sessions} sessions; {args.repeat} repeats; seconds,")
        print("median (min–max); ratio = median / anchor median\n")
        print("| what | seconds | ratio to anchor |")
        print("| --- | ---: | ---: |")
        anchor_label = "anchor: straightforward icalendar build of /calendar.ics"
        print(f"| {anchor_label} | {summary(anchor)} | 1.00 |")
        for label, samples in (
            ("one-session change to published bytes (gc paused in the batch)", paused),
            ("the same with gc left on", collecting),
        ):
            ratio = statistics.median(samples) / base
            print(f"| {label} | {summary(samples)} | {ratio:.2f} |")
        ratio = everything / base
        print(f"| publish everything once (release step) | {everything:.3f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
