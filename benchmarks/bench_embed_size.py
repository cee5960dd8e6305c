"""The size of what an embedding site's visitors download: the web component and the iframe
page with its stylesheet and script.

    python benchmarks/bench_embed_size.py

Prints raw and gzip (level 9, what nginx's gzip_static or a CDN would serve) bytes, and each
against the 10 KB gzipped budget of the web component. Sizes, not times: deterministic.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import create_app

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 10 * 1024
PARTS = {
    "embed.js (web component)": "/embed.js",
    "iframe page (HTML)": "/embed/championships/gt4-european-series-2023",
    "embed.css": "/static/embed.css",
    "local-time.js": "/static/local-time.js",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'size.sqlite3'}",
                "DATA_DIR": str(ROOT / "data"),
            }
        )
        client = app.test_client()
        print("| file | bytes | gzip -9 bytes | gzip / 10 KB budget |")
        print("| --- | ---: | ---: | ---: |")
        total = 0
        for label, path in PARTS.items():
            body = client.get(path).data
            packed = len(gzip.compress(body, 9))
            total += packed if label != "embed.js (web component)" else 0
            print(f"| {label} | {len(body):,} | {packed:,} | {packed / BUDGET:.2f} |")
        print(f"| iframe total (page + css + script) | | {total:,} | {total / BUDGET:.2f} |")


if __name__ == "__main__":
    main()
