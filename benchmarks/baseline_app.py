"""A minimal Flask app that serves fixed bytes with an ETag: the serving baseline.

``bench_calendar.py`` runs it under gunicorn next to gridfeed, with the same bytes gridfeed
returned for ``/calendar.ics``::

    BASELINE_BODY=/tmp/calendar.ics \\
        gunicorn --workers 2 --chdir benchmarks 'baseline_app:create_app()'

``bench_serving.py`` gives it a directory instead (``BASELINE_DIR``): every file in it is
served at its relative path, with its ``.gz`` sibling when the request accepts gzip, all read
once at start (precomputed bytes, nothing done per request but the lookup and the ETag test).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, Response, abort, request

CONTENT_TYPES = {
    ".ics": "text/calendar; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
}


def load_files() -> dict[str, tuple[bytes, bytes | None, str]]:
    """``/path`` → (body, gzip body or None, ETag) from ``BASELINE_DIR`` or ``BASELINE_BODY``."""
    if "BASELINE_DIR" not in os.environ:
        body = Path(os.environ["BASELINE_BODY"]).read_bytes()
        return {"/calendar.ics": (body, None, hashlib.sha256(body).hexdigest()[:32])}
    root = Path(os.environ["BASELINE_DIR"])
    files = {}
    for path in root.rglob("*"):
        if path.is_file() and path.suffix != ".gz":
            body = path.read_bytes()
            packed = path.with_name(path.name + ".gz")
            gzip_body = packed.read_bytes() if packed.exists() else None
            etag = hashlib.sha256(body).hexdigest()[:32]
            files["/" + path.relative_to(root).as_posix()] = (body, gzip_body, etag)
    return files


def create_app() -> Flask:
    """The baseline app: each known path returns its precomputed bytes."""
    files = load_files()
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> str:
        return "ok\n"

    @app.get("/<path:name>")
    def serve(name: str) -> Response:
        found = files.get("/" + name)
        if found is None:
            abort(404)
        body, gzip_body, etag = found
        suffix = Path(name).suffix
        zipped = gzip_body is not None and "gzip" in request.headers.get("Accept-Encoding", "")
        response = Response(gzip_body if zipped else body, content_type=CONTENT_TYPES[suffix])
        if zipped:
            response.headers["Content-Encoding"] = "gzip"
        if gzip_body is not None:
            response.vary.add("Accept-Encoding")
        response.set_etag(etag)
        return response.make_conditional(request)

    return app
