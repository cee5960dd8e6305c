"""The queue of publish work: what a change affects, queued in the write transaction, and
claimed by workers.

A job is a *scope* ("round:<championship>:<number>", "championship:<slug>", "article:<slug>",
"competitor:<slug>", "series:<slug>" (New Year), "everything"). One row per scope: a second
write to the same round before the worker gets to it bumps ``requested`` instead of queueing
the work twice. Claims are leases taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL
(``BEGIN IMMEDIATE`` on SQLite), so two workers never publish the same job at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session as OrmSession

from ..domain.keys import split_round_key, split_session_key
from ..domain.models import Change
from ..store.engine import conflict_insert, write_session
from .models import PublishJob

EVERYTHING = "everything"
SERIES = "series"  # "series:<slug>": a series calendar alone (queued at New Year)
# Set in a write session's ``info`` when it queued publish work, for commit listeners.
REQUESTED = "gridfeed.publish_requested"
# A worker that died mid-publish leaves its job to be claimed again after this. A batch that
# outlives its lease is at worst published twice (the result is the same bytes).
LEASE_SECONDS = 60


def scopes_for_change(change: Change) -> set[str]:
    """The publish scopes one change-record entry affects."""
    entity, key, slug = change.entity, change.key, change.championship
    if entity in ("session", "results"):
        championship, number, _ = split_session_key(key)
        return {f"round:{championship}:{number}"}
    if entity == "round":
        championship, number = split_round_key(key)
        return {f"round:{championship}:{number}"}
    if entity in ("championship", "entry") and slug:
        return {f"championship:{slug}"}
    if entity == "article":
        scopes = {f"article:{key.removeprefix('articles/')}"}
        # The article's old championships and competitors lose it: republish their news.
        before = change.before or {}
        scopes.update(f"news:championship:{c}" for c in before.get("championships") or ())
        scopes.update(f"news:competitor:{c}" for c in before.get("competitors") or ())
        return scopes
    if entity == "competitor" and change.action == "created":
        return {f"competitor:{key.removeprefix('competitors/')}"}
    if change.action == "created" and entity in ("circuit", "team"):
        return set()  # nothing shows a circuit or team until a round or entry names it
    # A renamed circuit, team or driver shows in many feeds: publish everything again.
    return {EVERYTHING}


def scopes_for_changes(changes: Iterable[Change]) -> set[str]:
    """The publish scopes a write's changes affect, coalesced."""
    scopes: set[str] = set()
    for change in changes:
        scopes |= scopes_for_change(change)
    return {EVERYTHING} if EVERYTHING in scopes else scopes


def request_publish(session: OrmSession, scopes: Iterable[str], now: dt.datetime) -> None:
    """Queue ``scopes`` in the caller's transaction, coalescing with waiting work."""
    scopes = sorted(set(scopes))
    if not scopes:
        return
    session.info[REQUESTED] = True
    table = PublishJob.__table__
    for scope in scopes:
        statement = conflict_insert(session, table).values(
            scope=scope, requested=1, requested_at=now
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.scope],
                set_={"requested": table.c.requested + 1, "requested_at": now},
            )
        )


@dataclass(frozen=True)
class Claimed:
    """A claimed job: its id, scope and the request count seen at the claim."""

    id: int
    scope: str
    requested: int


def claim(app: Flask, worker_id: str, limit: int, now: dt.datetime) -> list[Claimed]:
    """Lease up to ``limit`` waiting jobs to ``worker_id``, oldest first."""
    free = or_(PublishJob.claimed_by.is_(None), PublishJob.lease_until < now)
    with write_session(app) as session:
        rows = session.execute(
            select(PublishJob.id, PublishJob.scope, PublishJob.requested)
            .where(free)
            .order_by(PublishJob.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        session.execute(
            update(PublishJob)
            .where(PublishJob.id.in_([r.id for r in rows]), free)
            .values(claimed_by=worker_id, lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))
        )
        return [Claimed(r.id, r.scope, r.requested) for r in rows]


def finish(app: Flask, claimed: Sequence[Claimed], worker_id: str) -> int:
    """Drop published jobs, in one transaction; a job requested again meanwhile is freed for
    another round instead. Returns how many are done."""
    done = 0
    with write_session(app) as session:
        for job in claimed:
            dropped = session.execute(
                delete(PublishJob).where(
                    PublishJob.id == job.id, PublishJob.requested == job.requested
                )
            ).rowcount
            done += dropped
            if not dropped:
                session.execute(
                    update(PublishJob)
                    .where(PublishJob.id == job.id, PublishJob.claimed_by == worker_id)
                    .values(claimed_by=None, lease_until=None)
                )
    return done


def release(app: Flask, claimed: Sequence[Claimed], worker_id: str) -> None:
    """Give jobs back unpublished (the publish failed): another attempt may claim them."""
    with write_session(app) as session:
        session.execute(
            update(PublishJob)
            .where(
                PublishJob.id.in_([job.id for job in claimed]), PublishJob.claimed_by == worker_id
            )
            .values(claimed_by=None, lease_until=None)
        )


def waiting(session: OrmSession) -> int:
    """How many jobs wait or are being published."""
    return len(session.scalars(select(PublishJob.id)).all())
