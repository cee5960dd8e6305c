"""Benchmark the issue-14 guards: what they cost on ordinary input, and how quickly hostile
input is refused, as ratios against an anchor measured by this script in the same run.

    python benchmarks/bench_hostile_input.py [--repeat 9]

1. Data files: ``load_and_validate`` of the shipped ``data/`` (the anchor) against a
   billion-laughs file, a 100,000-deep list and a file just under the size limit.
2. JSON bodies: ``json.loads`` of a 900 KB article body (the anchor) against the guard
   ``check_json_body`` on the same bytes (its cost on every API write), and on a body
   nested 20,000 deep.
Medians, with the interquartile range as the spread. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.api.json_bodies import BodyError, check_json_body
from service.domain.choices import MAX_DATA_FILE_BYTES
from service.ingest.datafiles import load_and_validate

ROOT = Path(__file__).resolve().parent.parent


def quartiles(samples: list[float]) -> tuple[float, float, float]:
    """Median and interquartile range."""
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return median, q1, q3


def timed(run: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` runs (after one warm-up run)."""
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _refused(raw: bytes) -> None:
    try:
        check_json_body(raw)
    except BodyError:
        return
    raise AssertionError("not refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    repeat = max(4, parser.parse_args().repeat)
    folder = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    laughs = ['lol0: &lol0 "lol"']
    laughs += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, 10)]
    files = {
        "billion laughs": "\n".join(laughs) + "\n",
        "100,000-deep list": "circuits: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "just under the size limit": "circuits: []\n#" + "x" * (MAX_DATA_FILE_BYTES - 20) + "\n",
    }
    rows: list[tuple[str, list[float]]] = [
        ("data/: shipped files (anchor)", timed(lambda: load_and_validate([ROOT / "data"]), repeat))
    ]
    for name, text in files.items():
        path = folder / f"{len(rows)}.yaml"
        path.write_text(text, encoding="utf-8")
        rows.append((f"data file: {name}", timed(lambda p=path: load_and_validate([p]), repeat)))
    body = json.dumps({"slug": "a", "title": "t", "body_markdown": "word " * 180_000}).encode()
    deep = b"[" * 20_000 + b"]" * 20_000
    json_rows = [
        ("json.loads, 900 KB body (anchor)", timed(lambda: json.loads(body), repeat)),
        ("check_json_body, same body", timed(lambda: check_json_body(body), repeat)),
        ("check_json_body, 20,000 deep (refused)", timed(lambda: _refused(deep), repeat)),
    ]
    for title, group in (("Data files", rows), ("JSON bodies", json_rows)):
        anchor = quartiles(group[0][1])[0]
        print(f"\n{title}: ms median (IQR), ratio to the anchor's median")
        for name, samples in group:
            median, q1, q3 = quartiles(samples)
            print(f"  {name:45} {median:9.2f} ({q1:.2f}-{q3:.2f})  x{median / anchor:.2f}")


if __name__ == "__main__":
    main()
