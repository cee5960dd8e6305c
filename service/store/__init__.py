"""The store: engine and sessions, the data version and its memo, and migrations.

It imports nothing above it; first-start seeding is done by ``ingest`` from ``create_app``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import data_version, engine


def init_app(app: Flask) -> None:
    """Attach the store to the app and close its sessions per request."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        # Also "sqlite:///file:/path?mode=ro&uri=true" (SQLite URI file names).
        path = url.removeprefix("sqlite:///").removeprefix("file:").split("?", 1)[0]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    store = engine.Store(url)
    app.extensions[engine.EXTENSION] = store
    app.teardown_appcontext(engine.close_request_session)
    data_version.listen_for_commits(app, store)
    # Migrating (AUTO_MIGRATE) happens in create_app under migrate.startup_lock, with seeding.
