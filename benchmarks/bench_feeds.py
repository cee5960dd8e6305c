"""Benchmark the news feeds on the large synthetic data set (benchmarks/synthetic.py).

    python benchmarks/bench_feeds.py [--repeat 15]

Prints a Markdown table: publish (data loaded, rendered, compressed and stored), warm 200
and 304 through the WSGI app, per format, with limit=50 and limit=500. Medians, with the
interquartile range as the spread. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import build, scratch_app
from service.publish.feeds import spec_for_path
from service.publish.publisher import publish_key


def measure(action: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median and interquartile range of ``repeat`` runs, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return median, q1, q3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = scratch_app(Path(tmp) / "bench.sqlite3")
        sessions = build(app)
        client = app.test_client()
        print(
            f"Synthetic data: {sessions} sessions; {args.repeat} runs each; ms, median "
            "(interquartile range)\n"
        )
        print("| feed | bytes | publish | warm 200 | 304 |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for limit in (50, 500):
            for fmt in ("rss", "atom", "json"):
                url = f"/news.{fmt}?limit={limit}"
                body = client.get(url)
                etag = body.headers["ETag"]

                spec = spec_for_path(f"/news.{fmt}")
                assert spec is not None
                key = replace(spec, limit=limit).key("http://localhost")

                def cold(key: str = key) -> None:
                    assert publish_key(app, key) is not None

                def warm(url: str = url) -> None:
                    assert client.get(url).status_code == 200

                def not_modified(url: str = url, etag: str = etag) -> None:
                    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

                cells = [measure(f, args.repeat) for f in (cold, warm, not_modified)]
                print(
                    f"| `{url}` | {len(body.data):,} | "
                    + " | ".join(f"{m:.1f} ({lo:.1f}–{hi:.1f})" for m, lo, hi in cells)
                    + " |"
                )


if __name__ == "__main__":
    main()
