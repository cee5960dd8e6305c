"""Measure brotli against the stored gzip copy on the synthetic data set's feeds.

    pip install brotli
    python benchmarks/bench_compression.py [--repeat 5]

Publishes the synthetic data set (benchmarks/synthetic.py, 3,840 sessions) once, then takes
the stored bytes of the largest calendar (``/calendar.ics``) and of ``/news.atom``. For each,
in one run, interleaved: the anchor is the publisher's own gzip copy (``GZIP_LEVEL``, what is
stored and served today); against it brotli at quality 11 and 5. Prints sizes and compress times as
ratios to gzip (times: median, min-max), plus decompress times (a client's cost). Not a test:
nothing here asserts a time. Bounded: ``--repeat`` rounds of 3 compressions per feed.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

try:
    import brotli
except ImportError:  # not a dependency of gridfeed: this script decides whether it should be
    sys.exit("brotli is not installed: pip install brotli")

from synthetic import cached_database  # noqa: E402

from service import create_app  # noqa: E402
from service.publish import publisher, stored  # noqa: E402
from service.publish.rendering import GZIP_LEVEL, compress  # noqa: E402
from service.store.engine import get_store  # noqa: E402

FEEDS = ("/calendar.ics", "/news.atom")
ORIGIN = publisher.DEFAULT_ORIGIN


def timed(action: Callable[[], bytes]) -> tuple[float, bytes]:
    start = time.perf_counter()
    out = action()
    return time.perf_counter() - start, out


def spread(samples: list[float], anchor: float) -> str:
    """Median and min-max of ``samples`` as ratios to ``anchor``."""
    return (
        f"{statistics.median(samples) / anchor:.2f}× "
        f"({min(samples) / anchor:.2f}–{max(samples) / anchor:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = cached_database(Path(tmp) / "bench.sqlite3")
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{db}",
                "AUTO_MIGRATE": True,
                "AUTO_SEED": False,
                "FEED_DOMAIN": "bench.gridfeed.example",
                "PUBLISH_IN_PROCESS": "0",
                "PUBLISH_DIR": "",
            }
        )
        publisher.publish_everything(app, "bench-compression")
        with get_store(app).sessions() as session:
            feeds = {path: stored.lookup(session, ORIGIN + path) for path in FEEDS}
        get_store(app).engine.dispose()
    stored_gzip = f"gzip -{GZIP_LEVEL} (stored, anchor)"
    methods: dict[str, Callable[[bytes], bytes]] = {
        stored_gzip: compress,
        "brotli quality 11": lambda body: brotli.compress(body, quality=11),
        "brotli quality 5": lambda body: brotli.compress(body, quality=5),
    }
    decoders: dict[str, Callable[[bytes], bytes]] = {
        stored_gzip: gzip.decompress,
        "brotli quality 11": brotli.decompress,
        "brotli quality 5": brotli.decompress,
    }
    print(f"brotli {brotli.__version__}, {args.repeat} interleaved rounds\n")
    for path, feed in feeds.items():
        assert feed is not None, path
        body = feed.body
        assert gzip.decompress(feed.gzip_body) == body
        times: dict[str, list[float]] = {name: [] for name in methods}
        unpack: dict[str, list[float]] = {name: [] for name in methods}
        sizes: dict[str, int] = {}
        for _ in range(args.repeat):
            for name, method in methods.items():
                seconds, packed = timed(lambda method=method, body=body: method(body))
                sizes[name] = len(packed)
                times[name].append(seconds)
                seconds, back = timed(lambda name=name, packed=packed: decoders[name](packed))
                assert back == body, name
                unpack[name].append(seconds)
        anchor_name = next(iter(methods))
        anchor_time = statistics.median(times[anchor_name])
        anchor_unpack = statistics.median(unpack[anchor_name])
        print(f"{path}: {len(body):,} bytes; {anchor_name}: {anchor_time * 1000:.1f} ms")
        print("| method | bytes | × gzip bytes | compress × gzip | decompress × gzip |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name in methods:
            print(
                f"| {name} | {sizes[name]:,} | {sizes[name] / sizes[anchor_name]:.3f} "
                f"| {spread(times[name], anchor_time)} "
                f"| {spread(unpack[name], anchor_unpack)} |"
            )
        print()


if __name__ == "__main__":
    main()
