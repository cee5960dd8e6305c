"""New Year: series calendars show the current and the next season, so they change when the
year does, with no write. The worker's housekeeping queues them once per calendar year."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import or_, select, update

from ..domain import queries
from ..store.engine import get_store, write_session
from . import jobs
from .models import PublishState


def series_scopes(slugs: list[str]) -> list[str]:
    """The publish scopes of the series calendars named by ``slugs``."""
    return [f"{jobs.SERIES}:{slug}" for slug in slugs]


def queue_series_for_year(app: Flask, now: dt.datetime) -> list[str]:
    """Queue every series calendar if they were last queued for another year than ``now``'s
    (UTC); return the scopes queued. Of several workers, one queues them."""
    year = now.astimezone(dt.UTC).year
    with get_store(app).sessions() as session:
        # A read first: most passes find nothing to do and take no write lock.
        if session.scalar(select(PublishState.series_year).where(PublishState.id == 1)) == year:
            return []
    with write_session(app) as session:
        moved = session.execute(
            update(PublishState)
            .where(
                PublishState.id == 1,
                or_(PublishState.series_year.is_(None), PublishState.series_year != year),
            )
            .values(series_year=year)
        ).rowcount
        if not moved:
            return []  # another worker got there first
        scopes = series_scopes(queries.series_slugs(session))
        jobs.request_publish(session, scopes, now)
        return scopes
