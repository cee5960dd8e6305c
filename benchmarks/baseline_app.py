"""A minimal Flask app that serves fixed bytes with an ETag: the serving baseline.

``bench_calendar.py`` runs it under gunicorn next to gridfeed, with the same bytes gridfeed
returned for ``/calendar.ics``::

    BASELINE_BODY=/tmp/calendar.ics \\
        gunicorn --workers 2 --chdir benchmarks 'baseline_app:create_app()'
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, Response, request


def create_app() -> Flask:
    """The baseline app: ``GET /calendar.ics`` returns the file in ``BASELINE_BODY``."""
    body = Path(os.environ["BASELINE_BODY"]).read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:32]
    app = Flask(__name__)

    @app.get("/calendar.ics")
    def calendar() -> Response:
        response = Response(body, content_type="text/calendar; charset=utf-8")
        response.set_etag(etag)
        return response.make_conditional(request)

    return app
