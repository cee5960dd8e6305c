"""Telling web processes of a new publication at once: PostgreSQL ``LISTEN``/``NOTIFY``.

``stored.bump_version`` sends ``NOTIFY gridfeed_published`` in the publishing transaction, so
it is delivered on commit only. Each web process on PostgreSQL runs one daemon thread, with
its own connection, that listens on that channel and makes the process read the publication
counter again on its next feed request (``serving.forget``). Polling every
``FEED_VERSION_RECHECK_SECONDS`` stays as the fallback, and is the only mechanism on SQLite.

The thread is started by the first request a process serves, and again in a process whose id
changed (a fork): under ``gunicorn --preload`` (the Procfile) the app is built in the master,
whose threads do not survive the fork, so each worker starts its own. CLI commands (the
worker, the release step) serve no request and start none.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field

import psycopg
from flask import Flask
from sqlalchemy.engine import make_url

from . import serving
from .stored import PUBLISHED_CHANNEL

log = logging.getLogger("gridfeed.publish")
EXTENSION = "gridfeed.publish_listener"
# How the listening connection shows in pg_stat_activity.
APPLICATION_NAME = "gridfeed-publish-listener"
# Seconds between reconnection attempts: doubled after each failure, up to the maximum.
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
# How often the thread wakes while no notification comes, to see whether it should stop.
WAKE_SECONDS = 1.0
# libpq keepalives, so a database host that vanishes without closing the connection (a
# network partition) is noticed within about a minute instead of never.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
# PostgreSQL's "invalid_catalog_name": the database itself is gone (dropped), not away.
DATABASE_DROPPED = "3D000"


@dataclass
class ListenerState:
    """One app's listener: the process it runs in, and the flag that stops it."""

    pid: int | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def listens(app: Flask) -> bool:
    """Whether this app's web processes listen for publications (on PostgreSQL)."""
    return make_url(app.config["DATABASE_URL"]).get_backend_name() == "postgresql"


def init_app(app: Flask) -> None:
    """On PostgreSQL, start the listener with the first request each process serves."""
    if not listens(app):
        return
    state = ListenerState()
    app.extensions[EXTENSION] = state

    def start_in_this_process() -> None:
        if state.pid != os.getpid():
            ensure_started(app, state)

    app.before_request(start_in_this_process)


def ensure_started(app: Flask, state: ListenerState) -> None:
    """Start the listening thread unless this process already runs it."""
    with state.lock:
        if state.pid == os.getpid():
            return
        state.pid = os.getpid()
        thread = threading.Thread(
            target=listen,
            args=(app, conninfo(app.config["DATABASE_URL"]), state.stop),
            name="gridfeed-publish-listener",
            daemon=True,
        )
        thread.start()


def stop(app: Flask) -> None:
    """Make the app's listener (if any) close its connection and end within a second."""
    state: ListenerState | None = app.extensions.get(EXTENSION)
    if state is not None:
        state.stop.set()


def conninfo(database_url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://…``)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def listen(app: Flask, url: str, stop_flag: threading.Event) -> None:
    """Until ``stop_flag`` is set: listen, and forget the current publication on each
    notification; reconnect with back-off when the database goes away."""
    backoff = BACKOFF_FIRST
    while not stop_flag.is_set():
        try:
            with psycopg.connect(
                url,
                autocommit=True,
                application_name=APPLICATION_NAME,
                connect_timeout=10,
                **KEEPALIVES,
            ) as connection:
                connection.execute(f"LISTEN {PUBLISHED_CHANNEL}")
                # What was published while nothing listened (start, reconnect) is read anew.
                serving.forget(app)
                backoff = BACKOFF_FIRST
                while not stop_flag.is_set():
                    for _ in connection.notifies(timeout=WAKE_SECONDS):
                        serving.forget(app)
            return
        except psycopg.Error as exc:
            if exc.sqlstate == DATABASE_DROPPED:
                log.error("publication listener stops: the database no longer exists")
                return
            # The class only: a driver's message names hosts and users.
            log.warning(
                "publication listener lost the database (%s); polling covers it; "
                "reconnecting in %.1f s",
                exc.__class__.__name__,
                backoff,
            )
        except Exception:  # a bug must not end the listener for the process's lifetime
            log.exception("publication listener failed; reconnecting in %.1f s", backoff)
        serving.forget(app)
        stop_flag.wait(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX)
