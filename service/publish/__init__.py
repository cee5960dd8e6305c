"""Publishing: feeds rendered on write, off the request path, stored as bytes (+ gzip, ETag,
Last-Modified) in the store and as files for a front. ``init_app`` wires it into the app."""

from __future__ import annotations

import logging
import os
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession

from ..config import parse_bool
from ..store.engine import get_store
from . import jobs, listener, publisher, serving

log = logging.getLogger("gridfeed.publish")


def publishes_in_process(app: Flask) -> bool:
    """Whether this process publishes right after its own writes and at start
    (``PUBLISH_IN_PROCESS``: ``auto`` = on the embedded default, SQLite)."""
    setting = str(app.config["PUBLISH_IN_PROCESS"]).strip().lower()
    if setting == "auto":
        return app.config["DATABASE_URL"].startswith("sqlite")
    return parse_bool(setting)


def init_app(app: Flask) -> None:
    """Register ``flask publish``; on the embedded default publish at start and after each
    committed write (the writing process renders; readers never do)."""
    app.cli.add_command(publish_command)
    publisher.fragments_of(app)
    serving.init_app(app)
    listener.init_app(app)  # PostgreSQL: each web process hears of new publications
    if not publishes_in_process(app):
        return
    store = get_store(app)
    worker_id = f"commit:{os.getpid()}"

    def publish_now() -> None:
        try:
            publisher.drain(app, worker_id)
        except Exception:  # the jobs stay queued: the next write or a worker publishes them
            log.exception("publishing after a commit failed")

    def after_commit(session: OrmSession) -> None:
        if not session.info.pop(jobs.REQUESTED, False):
            return
        # In a thread of its own, waited for up to PUBLISH_WAIT_SECONDS: a write is normally
        # served by the time it returns, and a large publication neither holds the response
        # past gunicorn's timeout nor dies with it half-done (its jobs would stay leased).
        thread = threading.Thread(target=publish_now, name="gridfeed-publish", daemon=True)
        thread.start()
        thread.join(app.config["PUBLISH_WAIT_SECONDS"])

    event.listen(store.write_sessions, "after_commit", after_commit)
    try:
        ensure_published(app, worker_id)
    except SQLAlchemyError as exc:
        # No schema yet (migrations not applied): /healthz says "publishing" until
        # `flask db upgrade` and `flask publish` (or the next start) have run.
        log.warning("feeds not published at start: %s", exc.__class__.__name__)


def ensure_published(app: Flask, worker_id: str) -> None:
    """Publish everything if it never was or was with other settings or code, then whatever
    is waiting."""
    with get_store(app).sessions() as session:
        published_with = publisher.stored.fingerprint(session)
    if published_with != publisher.fingerprint(app):
        publisher.publish_everything(app, worker_id)
    publisher.drain(app, worker_id)
    publisher.sync_files(app)


@click.command("publish")
@with_appcontext
def publish_command() -> None:
    """Render and store every feed (the release step); then exit."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker_id = f"release:{os.getpid()}"
    changed = publisher.publish_everything(app, worker_id)
    publisher.drain(app, worker_id)
    publisher.sync_files(app)
    click.echo(f"Published every feed: {changed} changed.")
