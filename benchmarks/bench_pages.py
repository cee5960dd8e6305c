"""Benchmark the site's HTML pages on the synthetic data set (benchmarks/synthetic.py).

    python benchmarks/bench_pages.py [--repeat 9] [--championships 20]

Pages are rendered on every request (no cache), so this shows what one page costs against an
anchor measured in the same run, interleaved: ``/healthz`` (one database round trip, the
floor of any request) and the championship's calendar served warm from the render cache.
Prints a Markdown table of bytes, gzip bytes and median milliseconds (interquartile range), with
the ratio to ``/healthz``. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import build, scratch_app

ANCHOR = "/healthz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--championships", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = scratch_app(Path(tmp) / "bench.sqlite3")
        sessions = build(app, championships=args.championships)
        client = app.test_client()
        home = client.get("/").get_data(as_text=True)
        slug = home.split('href="/championships/', 1)[1].split('"', 1)[0]
        competitor = home.split('href="/competitors/', 1)[1].split('"', 1)[0]
        urls = [
            ANCHOR,
            f"/championships/{slug}/calendar.ics",
            "/",
            f"/championships/{slug}",
            f"/championships/{slug}/rounds/1",
            f"/competitors/{competitor}",
            "/news",
            "/api/v1/docs",
        ]
        samples: dict[str, list[float]] = {url: [] for url in urls}
        bodies = {}
        for url in urls:  # warm up: templates compiled, calendar rendered once
            response = client.get(url)
            assert response.status_code == 200, url
            bodies[url] = response.data
        for _ in range(args.repeat):  # interleaved, so load on the shared box hits all alike
            for url in urls:
                start = time.perf_counter()
                client.get(url)
                samples[url].append((time.perf_counter() - start) * 1000)
        anchor = statistics.median(samples[ANCHOR])
        print(
            f"Synthetic data: {sessions} sessions, {args.championships} championships; "
            f"{args.repeat} interleaved runs; ms, median (interquartile range)\n"
        )
        print("| URL | bytes | gzip bytes | ms | × /healthz |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for url in urls:
            q1, median, q3 = statistics.quantiles(samples[url], n=4)
            body = bodies[url]
            print(
                f"| `{url}` | {len(body):,} | {len(gzip.compress(body)):,} | "
                f"{median:.1f} ({q1:.1f}–{q3:.1f}) | {median / anchor:.1f} |"
            )


if __name__ == "__main__":
    main()
