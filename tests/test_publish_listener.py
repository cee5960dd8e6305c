"""LISTEN/NOTIFY on a real PostgreSQL: a publication made by one app (or process) is served by
another at once, although that one polls the publication counter only once an hour; the
listener reconnects when its connection is killed; under gunicorn --preload each worker
process listens, and the master does not."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import requests
import vobject
from flask import Flask
from sqlalchemy import create_engine, select, text

from service.domain.models import Championship, Round
from service.publish import listener, publisher
from service.store.engine import get_store
from service.writes import write

from . import test_postgres
from .conftest import DATA_DIR, REPO_ROOT
from .servers import free_port, wait_until_up, web_command
from .test_postgres import _app

# The PostgreSQL tests' skip rule, their "server is there" check and their database fixture.
pytestmark = test_postgres.pytestmark
postgres_is_there = test_postgres._postgres_is_there
one_database = test_postgres.pg_database

GT4 = "gt4-european-series-2023"
GT4_ICS = f"/championships/{GT4}/calendar.ics"
# The poll that would otherwise tell a process of a new version: once an hour.
HOURLY = {"FEED_VERSION_RECHECK_SECONDS": 3600}
T = TypeVar("T")


def _eventually(probe: Callable[[], T], what: str, within: float = 15) -> T:
    """``probe()``'s first truthy answer, polled until ``within`` seconds have passed."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {within} s: {what}")


def _listeners(url: str) -> list[int]:
    """Backend process ids of the publication listeners connected to the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.scalars(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = current_database() AND application_name = :name"
                    ),
                    {"name": listener.APPLICATION_NAME},
                )
            )
    finally:
        engine.dispose()


def _terminate(url: str, pids: list[int]) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        engine.dispose()


def _add_session_and_publish(app: Flask, slug: str) -> None:
    """A write through the write path, then the worker's publish step (on PostgreSQL the web
    process never publishes)."""
    with write(app, actor="test") as w:
        champ = w.session.scalar(select(Championship).where(Championship.slug == GT4))
        round_ = w.session.scalar(
            select(Round).where(Round.championship == champ, Round.number == 2)
        )
        w.upsert_session(round_, slug, {"name": slug.title(), "kind": "test"})
    assert publisher.drain(app, "test-worker") > 0


def _texts(body: bytes) -> list[str]:
    """Each event's summary and description (a session with no date yet shows in its round's
    description only)."""
    calendar = vobject.readOne(body.decode("utf-8"))
    return [
        f"{event.summary.value}\n{event.description.value}"
        for event in calendar.contents.get("vevent", [])
    ]


def _shows(get: Callable[[str], bytes], word: str) -> Callable[[], bool]:
    return lambda: any(word in text for text in _texts(get(GT4_ICS)))


def test_a_publication_through_one_app_is_served_by_the_other_at_once(one_database: str) -> None:
    writer = _app(one_database, **HOURLY)
    assert writer.test_cli_runner().invoke(args=["publish"]).exit_code == 0
    reader_app = _app(one_database, AUTO_SEED=False, **HOURLY)
    reader = reader_app.test_client()
    try:
        assert reader.get(GT4_ICS).status_code == 200  # starts the reader's listener
        _eventually(lambda: _listeners(one_database), "the reader listens")
        # The reader has read the counter now; polling alone would not read it for an hour.
        before = reader.get(GT4_ICS).data
        assert not _shows(lambda url: before, "Shakedown")()
        _add_session_and_publish(writer, "shakedown")
        _eventually(_shows(lambda url: reader.get(url).data, "Shakedown"), "reader serves it")
    finally:
        listener.stop(reader_app)
        for app in (writer, reader_app):
            get_store(app).engine.dispose()


def test_the_listener_reconnects_after_its_connection_is_killed(one_database: str) -> None:
    writer = _app(one_database, **HOURLY)
    assert writer.test_cli_runner().invoke(args=["publish"]).exit_code == 0
    reader_app = _app(one_database, AUTO_SEED=False, **HOURLY)
    reader = reader_app.test_client()
    try:
        assert reader.get(GT4_ICS).status_code == 200
        [first] = _eventually(lambda: _listeners(one_database), "the reader listens")
        _terminate(one_database, [first])
        [second] = _eventually(
            lambda: [p for p in _listeners(one_database) if p != first] or None,
            "the reader listens again on a new connection",
        )
        assert second != first
        reader.get(GT4_ICS)  # the counter is read again after a reconnect, then not for an hour
        _add_session_and_publish(writer, "warmup")
        _eventually(_shows(lambda url: reader.get(url).data, "Warmup"), "reader serves it")
    finally:
        listener.stop(reader_app)
        for app in (writer, reader_app):
            get_store(app).engine.dispose()


@contextmanager
def _gunicorn(database: str, port: int, log: Path) -> Iterator[subprocess.Popen]:
    """The Procfile's web process (gunicorn --preload, two workers) on ``port``."""
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "GRIDFEED_DATA_DIR": str(DATA_DIR),
        "GRIDFEED_DOMAIN": "gridfeed.test",
        "GRIDFEED_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "GRIDFEED_AUTO_MIGRATE": "0",
        "GRIDFEED_AUTO_SEED": "0",
        "GRIDFEED_FEED_VERSION_RECHECK_SECONDS": "3600",
        "GRIDFEED_PUBLISH_DIR": str(log.parent / "published"),
        "SECRET_KEY": "listener-test-key-" + "0123456789abcdef" * 2,
    }
    command = web_command(port)
    assert "--preload" in command, "the Procfile's gunicorn forks a preloaded app"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=out)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_every_gunicorn_worker_listens_and_the_master_does_not(
    one_database: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    writer = _app(one_database, PUBLIC_BASE_URL=base)  # migrates and seeds
    assert writer.test_cli_runner().invoke(args=["publish"]).exit_code == 0  # release step
    workers = 2
    assert f"--workers {workers}" in " ".join(web_command(port))
    with _gunicorn(one_database, port, tmp_path / "web.log") as web:

        def each_worker_listens() -> bool:
            # Requests until each worker has served one (and so started its listener).
            for _ in range(4):
                assert requests.get(base + GT4_ICS, timeout=30).status_code == 200
            return len(_listeners(one_database)) == workers

        _eventually(each_worker_listens, "each gunicorn worker listens", within=30)
        time.sleep(0.5)
        # Exactly one per worker: none in the master, none twice in one worker.
        assert len(_listeners(one_database)) == workers and web.poll() is None
        # Every worker has read the counter and would not read it again for an hour.
        old = requests.get(base + GT4_ICS, timeout=30).content
        assert not _shows(lambda url: old, "Shakedown")()
        _add_session_and_publish(writer, "shakedown")

        def all_serve_it() -> bool:
            # Twenty answers in a row with the new session: both workers serve it.
            return all(
                _shows(lambda url: requests.get(base + url, timeout=30).content, "Shakedown")()
                for _ in range(20)
            )

        _eventually(all_serve_it, "every gunicorn worker serves the new version")
    get_store(writer).engine.dispose()
