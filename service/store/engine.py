"""The engine and sessions of one app: SQLite or PostgreSQL, read sessions per request, and
write sessions that each hold one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

EXTENSION = "gridfeed.store"


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


def get_store(app: Flask | None = None) -> Store:
    """The store of the given (or current) app."""
    return (app or current_app).extensions[EXTENSION]


def read_session() -> OrmSession:
    """The request's read-only session; closed at the end of the request."""
    if "db_session" not in g:
        g.db_session = get_store().sessions()
    return g.db_session


def close_request_session(_exc: BaseException | None) -> None:
    """Close the request's read session, if it opened one."""
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


def ping(session: OrmSession) -> None:
    """Raise if the database does not answer."""
    session.execute(text("SELECT 1"))


def check_writes_commit(app: Flask | None = None) -> None:
    """Raise (a SQLAlchemy error) unless a write can commit now: a real, empty write to the
    data-version row in a write transaction, so a read-only or full database shows here."""
    with write_session(app) as session:
        session.execute(text("UPDATE data_state SET version = version WHERE id = 1"))


def conflict_insert(session: OrmSession, table: Any) -> Any:
    """An INSERT into ``table`` that takes ``on_conflict_do_nothing`` / ``_do_update``, in the
    dialect of the session's database (PostgreSQL or SQLite, the two the store supports)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
