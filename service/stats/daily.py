"""The database side of subscriber counts: daily salts, flushing a process's counter, and
closing past days (their hashes and salt deleted, only the counts kept).

``init_app`` gives the app its counter and, in a serving process, a flusher thread started by
the first request (never in CLI commands or tests, which flush through the worker or CLI).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading

from flask import Flask, current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as OrmSession

from ..store.engine import conflict_insert, get_store, write_session
from .counter import AGGREGATOR_PREFIX, FetchCounter, Pending
from .models import FeedDailyCount, FeedFetcher, StatsSalt

log = logging.getLogger("gridfeed.stats")
EXTENSION = "gridfeed.fetch_counter"
FLUSHER_EXTENSION = "gridfeed.fetch_counter_flusher"


def utc_today() -> dt.date:
    """Counting days are UTC days."""
    return dt.datetime.now(dt.UTC).date()


def _insert_ignore(session: OrmSession, model: type, rows: list[dict]) -> None:
    """Insert ``rows``, skipping any that a unique constraint already holds."""
    if rows:
        session.execute(conflict_insert(session, model).values(rows).on_conflict_do_nothing())


def salt_for(app: Flask, day: dt.date) -> str:
    """The salt of ``day``, created (once, whichever process is first) if missing."""
    with write_session(app) as session:
        _insert_ignore(session, StatsSalt, [{"day": day, "salt": secrets.token_hex(32)}])
    with get_store(app).sessions() as session:
        return session.scalar(select(StatsSalt.salt).where(StatsSalt.day == day))


def counter_of(app: Flask) -> FetchCounter:
    """The app's counter."""
    return app.extensions[EXTENSION]


def flush(app: Flask, today: dt.date | None = None) -> int:
    """Write what this process counted; load today's and tomorrow's salts. Rows written."""
    today = today or utc_today()
    counter = counter_of(app)
    known = counter.known_salts()
    # Only a day not yet held costs a database round trip (once a day per process).
    counter.know_salts(
        {day: known.get(day) or salt_for(app, day) for day in (today, today + dt.timedelta(days=1))}
    )
    pending = counter.take()
    if not pending:
        return 0
    try:
        return _write(app, pending)
    except Exception:
        counter.give_back(pending)
        raise


def _write(app: Flask, pending: Pending) -> int:
    people = [
        {"day": d, "feed": f, "championship": c, "fetcher": h, "subscribers": 1}
        for (d, f, c), hashes in pending.people.items()
        for h in sorted(hashes)
    ]
    aggregators = [
        {
            "day": d,
            "feed": f,
            "championship": c,
            "fetcher": AGGREGATOR_PREFIX + name,
            "subscribers": count,
        }
        for (d, f, c, name), count in pending.aggregators.items()
    ]
    with write_session(app) as session:
        _insert_ignore(session, FeedFetcher, people)
        if aggregators:
            insert = conflict_insert(session, FeedFetcher)
            postgres = session.get_bind().dialect.name == "postgresql"
            greatest = func.greatest if postgres else func.max
            # An aggregator's number for the day is the most it reported that day.
            session.execute(
                insert.values(aggregators).on_conflict_do_update(
                    index_elements=["day", "feed", "fetcher"],
                    set_={
                        "subscribers": greatest(
                            FeedFetcher.__table__.c.subscribers, insert.excluded.subscribers
                        )
                    },
                )
            )
    return len(people) + len(aggregators)


def close_days(app: Flask, today: dt.date | None = None) -> int:
    """Count every day before ``today`` into ``feed_daily_counts`` and delete its hashes and
    its salt; return how many feed-days were closed."""
    today = today or utc_today()
    closed = 0
    with write_session(app) as session:
        rows = session.execute(
            select(
                FeedFetcher.day,
                FeedFetcher.feed,
                FeedFetcher.championship,
                FeedFetcher.fetcher,
                FeedFetcher.subscribers,
            ).where(FeedFetcher.day < today)
        ).all()
        for (day, feed), count in summarise(rows).items():
            existing = session.scalar(
                select(FeedDailyCount).where(FeedDailyCount.day == day, FeedDailyCount.feed == feed)
            )
            if existing is None:
                session.add(FeedDailyCount(day=day, feed=feed, **count))
            else:  # a late flush of a closed day: add what it brought
                existing.direct += count["direct"]
                existing.aggregators = max(existing.aggregators, count["aggregators"])
                existing.subscribers = max(existing.subscribers, count["subscribers"])
            closed += 1
        session.execute(delete(FeedFetcher).where(FeedFetcher.day < today))
        session.execute(delete(StatsSalt).where(StatsSalt.day < today))
    return closed


def summarise(rows) -> dict[tuple[dt.date, str], dict[str, object]]:
    """(day, feed) → direct fetchers, aggregators and the subscribers they report."""
    out: dict[tuple[dt.date, str], dict[str, object]] = {}
    for day, feed, championship, fetcher, subscribers in rows:
        count = out.setdefault(
            (day, feed),
            {"championship": championship, "direct": 0, "aggregators": 0, "subscribers": 0},
        )
        if fetcher.startswith(AGGREGATOR_PREFIX):
            count["aggregators"] += 1  # type: ignore[operator]
            count["subscribers"] += subscribers  # type: ignore[operator]
        else:
            count["direct"] += 1  # type: ignore[operator]
    return out


def _flusher(app: Flask, stop: threading.Event) -> None:
    every = app.config["STATS_FLUSH_SECONDS"]
    while not stop.wait(every):
        try:
            flush(app)
        except Exception:  # the database may be briefly away: the counts wait in memory
            log.exception("flushing feed counts failed; will retry")


def _start_flusher() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions[FLUSHER_EXTENSION]
    if state["started"]:
        return
    with state["lock"]:
        if state["started"]:
            return
        state["started"] = True
        threading.Thread(
            target=_flusher, args=(app, state["stop"]), name="gridfeed-stats", daemon=True
        ).start()


def init_app(app: Flask) -> None:
    """Give the app its counter, and a flusher thread in serving processes."""
    app.extensions[EXTENSION] = FetchCounter(lambda day: salt_for(app, day))
    if app.config["STATS_ENABLED"] and not app.testing:
        app.extensions[FLUSHER_EXTENSION] = {
            "started": False,
            "lock": threading.Lock(),
            "stop": threading.Event(),
        }
        app.before_request(_start_flusher)
