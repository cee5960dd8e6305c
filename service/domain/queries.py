"""Read queries shared by the renderers' views: whole object graphs in a few SELECTs.

Renderers are pure functions of the objects these return; they must not trigger lazy loads,
so every relationship a renderer walks is loaded here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from .models import (
    Championship,
    Change,
    Circuit,
    Competitor,
    Entry,
    EntryDriver,
    Result,
    Round,
    Session,
    SlugRedirect,
    Team,
)
from .timesheet import slugify


def _championship_graph() -> list[_AbstractLoad]:
    rounds = selectinload(Championship.rounds)
    sessions = rounds.selectinload(Round.sessions)
    results = sessions.selectinload(Session.results)
    return [
        rounds.joinedload(Round.circuit),
        results.joinedload(Result.driver),
        results.joinedload(Result.entry)
        .selectinload(Entry.drivers)
        .joinedload(EntryDriver.competitor),
        selectinload(Championship.entries).joinedload(Entry.team),
        selectinload(Championship.entries)
        .selectinload(Entry.drivers)
        .joinedload(EntryDriver.competitor),
    ]


def all_championships(session: OrmSession) -> Sequence[Championship]:
    """Every championship with rounds, circuits, sessions, results and entries loaded."""
    return (
        session.scalars(
            select(Championship)
            .options(*_championship_graph())
            .order_by(Championship.season.desc(), Championship.name)
        )
        .unique()
        .all()
    )


def championship_by_slug(session: OrmSession, slug: str) -> Championship | None:
    """One championship with its whole graph loaded, or None."""
    return (
        session.scalars(
            select(Championship).where(Championship.slug == slug).options(*_championship_graph())
        )
        .unique()
        .one_or_none()
    )


def round_by_number(session: OrmSession, slug: str, number: int) -> Round | None:
    """One round of a championship, with the championship's graph loaded, or None."""
    championship = championship_by_slug(session, slug)
    if championship is None:
        return None
    return next((r for r in championship.rounds if r.number == number), None)


def competitor_by_slug(session: OrmSession, slug: str) -> Competitor | None:
    """A competitor, or None."""
    return session.scalar(select(Competitor).where(Competitor.slug == slug))


def _entered_championship_ids(competitor_id: Any) -> Select[tuple[int]]:
    """The ids of the championships a competitor (id or id expression) is entered in."""
    return (
        select(Entry.championship_id)
        .join(EntryDriver, EntryDriver.entry_id == Entry.id)
        .where(EntryDriver.competitor_id == competitor_id)
    )


def championships_of(session: OrmSession, competitor: Competitor) -> Sequence[Championship]:
    """The championships a competitor is entered in, each with its whole graph loaded."""
    return (
        session.scalars(
            select(Championship)
            .where(Championship.id.in_(_entered_championship_ids(competitor.id)))
            .options(*_championship_graph())
            .order_by(Championship.season.desc(), Championship.name)
        )
        .unique()
        .all()
    )


def championship_slugs_of(session: OrmSession, competitor_slug: str) -> frozenset[str]:
    """Slugs of the championships the competitor ``competitor_slug`` is entered in."""
    competitor_id = select(Competitor.id).where(Competitor.slug == competitor_slug)
    entered = _entered_championship_ids(competitor_id.scalar_subquery())
    return frozenset(session.scalars(select(Championship.slug).where(Championship.id.in_(entered))))


def all_competitors(session: OrmSession) -> Sequence[Competitor]:
    """Every competitor, by name."""
    return session.scalars(select(Competitor).order_by(Competitor.name)).all()


def last_change_at(
    session: OrmSession, championships: Sequence[str] | None = None
) -> dt.datetime | None:
    """When anything a feed about ``championships`` (None: everything) may show last changed.

    Counts the championships' own changes and every change that belongs to no single
    championship (circuits, teams, drivers) or to articles, so a feed's Last-Modified is
    never earlier than a change to its bytes: a client sending only If-Modified-Since is
    never told "not modified" wrongly.
    """
    stmt = select(func.max(Change.at))
    if championships is not None:
        stmt = stmt.where(
            or_(
                Change.championship.in_(list(championships)),
                Change.championship.is_(None),
                Change.entity == "article",
            )
        )
    return session.scalar(stmt)


def circuit_by_slug(session: OrmSession, slug: str) -> Circuit | None:
    """A circuit, or None."""
    return session.scalar(select(Circuit).where(Circuit.slug == slug))


def all_circuits(session: OrmSession) -> Sequence[Circuit]:
    """Every circuit, by slug."""
    return session.scalars(select(Circuit).order_by(Circuit.slug)).all()


def team_by_slug(session: OrmSession, slug: str) -> Team | None:
    """A team, or None."""
    return session.scalar(select(Team).where(Team.slug == slug))


def all_teams(session: OrmSession) -> Sequence[Team]:
    """Every team, by slug."""
    return session.scalars(select(Team).order_by(Team.slug)).all()


def entry_by_slug(session: OrmSession, championship: Championship, slug: str) -> Entry | None:
    """One entry of a championship, or None."""
    return session.scalar(
        select(Entry).where(Entry.championship_id == championship.id, Entry.slug == slug)
    )


def redirect_target(session: OrmSession, entity: str, slug: str) -> str | None:
    """The slug an old ``entity`` slug now redirects to, or None."""
    return session.scalar(
        select(SlugRedirect.new_slug).where(
            SlugRedirect.entity == entity, SlugRedirect.old_slug == slug
        )
    )


def series_seasons(session: OrmSession, series_slug: str) -> list[Championship]:
    """The championships of a series (by the slug of its name), oldest season first."""
    names = session.scalars(select(Championship.series).distinct()).all()
    wanted = [name for name in names if slugify(name) == series_slug]
    if not wanted:
        return []
    return list(
        session.scalars(
            select(Championship)
            .where(Championship.series.in_(wanted))
            .options(*_championship_graph())
            .order_by(Championship.season, Championship.slug)
        ).unique()
    )


def next_season(session: OrmSession, championship: Championship) -> Championship | None:
    """The same series' championship of the following season, if one exists."""
    return session.scalars(
        select(Championship)
        .where(
            Championship.series == championship.series,
            Championship.season == championship.season + 1,
        )
        .order_by(Championship.slug)
    ).first()
