"""The data version: one row, bumped by every committed write, and its per-process memo."""

from __future__ import annotations

import datetime as dt
import time

from flask import Flask, current_app
from sqlalchemy import Integer, event, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as OrmSession

from .base import Base, UTCDateTime
from .engine import Store, read_session

MEMO_EXTENSION = "gridfeed.data_version_memo"


class DataState(Base):
    """A single row: the data version, bumped by every committed write."""

    __tablename__ = "data_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    seeded: Mapped[bool] = mapped_column(default=False)


def data_version(session: OrmSession) -> int:
    """The current data version (0 before anything was written)."""
    version = session.execute(select(DataState.version).where(DataState.id == 1)).scalar()
    return version or 0


def data_state(session: OrmSession) -> DataState | None:
    """The data state row, if any."""
    return session.get(DataState, 1)


def current_data_version() -> int:
    """The data version, read from the database at most every ``FEED_VERSION_RECHECK_SECONDS``
    per process; a write committed in this process makes the next call read it again.

    Reading it is the only database work of a warm feed request and more than half its cost.
    Another process's write shows here within that second, which is nothing next to the hour
    calendar apps and caches may keep a feed (``max-age``); 0 reads it on every request.
    """
    recheck = current_app.config["FEED_VERSION_RECHECK_SECONDS"]
    checked_at, version = current_app.extensions.get(MEMO_EXTENSION, (None, 0))
    now = time.monotonic()
    if checked_at is None or now - checked_at >= recheck:
        version = data_version(read_session())
        current_app.extensions[MEMO_EXTENSION] = (now, version)
    return version


def forget_data_version(app: Flask) -> None:
    """Make this process read the data version again on its next request."""
    app.extensions.pop(MEMO_EXTENSION, None)


def listen_for_commits(app: Flask, store: Store) -> None:
    """Drop the memo whenever one of this app's write transactions commits.

    The cache listens to commits (as warehouse's origin cache does), so no writer has to know
    that a memo exists.
    """
    event.listen(store.write_sessions, "after_commit", lambda _session: forget_data_version(app))
