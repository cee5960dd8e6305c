"""The store: one SQLAlchemy engine per app, sessions, migrations and first-start seeding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from .models import DataState

EXTENSION = "gridfeed.db"


class Store:
    """The engine and session factory of one app (kept in ``app.extensions``, never global)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Write transactions take SQLite's write lock up front (BEGIN IMMEDIATE), so two
        # writers queue on busy_timeout instead of failing when a read lock cannot upgrade.
        self.write_sessions = sessionmaker(
            self.engine.execution_options(gridfeed_write=True), expire_on_commit=False
        )


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL, a busy timeout and explicit BEGIN."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own transaction start (pysqlite's is lazy and wrong).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("gridfeed_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def init_app(app: Flask) -> None:
    """Attach the store to the app, migrate and seed if configured, close sessions per request."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = Store(url)
    app.extensions[EXTENSION] = store
    app.teardown_appcontext(_close_request_session)
    if app.config["AUTO_MIGRATE"]:
        upgrade(store.engine)
    if app.config["AUTO_SEED"]:
        _seed_once(app, store)
    # No pooled connection may survive into forked workers (gunicorn --preload).
    store.engine.dispose()


def get_store(app: Flask | None = None) -> Store:
    """The store of the given (or current) app."""
    return (app or current_app).extensions[EXTENSION]


def read_session() -> OrmSession:
    """The request's read-only session; closed at the end of the request."""
    if "db_session" not in g:
        g.db_session = get_store().sessions()
    return g.db_session


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def write_session(app: Flask | None = None) -> Iterator[OrmSession]:
    """A session in one write transaction: committed on success, rolled back on any error."""
    session = get_store(app).write_sessions()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


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


def data_version(session: OrmSession) -> int:
    """The current data version (0 before anything was written)."""
    version = session.execute(select(DataState.version).where(DataState.id == 1)).scalar()
    return version or 0


def data_state(session: OrmSession) -> DataState | None:
    """The data state row, if any."""
    return session.get(DataState, 1)


def _seed_once(app: Flask, store: Store) -> None:
    from .importer import import_paths  # the importer depends on the store, not vice versa

    with store.sessions() as session:
        state = session.get(DataState, 1)
        if state is not None and state.seeded:
            return
    data_dir = Path(app.config["DATA_DIR"])
    if not data_dir.is_dir():
        app.logger.warning("seed directory %s does not exist; starting empty", data_dir)
        return
    import_paths(app, [data_dir], actor="seed", mark_seeded=True)


def ping(session: OrmSession) -> None:
    """Raise if the database does not answer."""
    session.execute(text("SELECT 1"))
