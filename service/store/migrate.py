"""Alembic migrations of the store: applied on start (embedded default) or by the release step."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, text

# The PostgreSQL advisory lock held while one process migrates and seeds ("grid" in ASCII).
ADVISORY_LOCK_KEY = 0x67726964


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic config for our migrations, bound to the given engine."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def sqlite_file(engine: Engine) -> str | None:
    """The file of a SQLite engine (also for ``sqlite:///file:...?uri=true``); else None."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return database.removeprefix("file:")


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's start-up lock: processes starting together on one fresh database
    migrate and seed one after the other instead of racing (SQLite: "database is locked" or
    "table already exists"). SQLite: an exclusive ``flock`` on ``<database>.lock`` beside the
    file; PostgreSQL: a session advisory lock. Not re-entrant: take it once per start."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
                connection.commit()
        return
    database = sqlite_file(engine)
    if database is None:
        yield
        return
    try:
        handle = open(f"{database}.lock", "a+b")  # noqa: SIM115 - closed below
    except OSError:
        # A read-only folder: nothing can migrate or seed there anyway, and reads must work.
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
