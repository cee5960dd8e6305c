"""Read queries shared by the renderers' views: whole object graphs in a few SELECTs.

Renderers are pure functions of the objects these return; they must not trigger lazy loads,
so every relationship a renderer walks is loaded here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from .choices import RESULTS_STATUSES
from .keys import round_key, session_key, split_round_key, split_session_key
from .models import (
    Article,
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


def _championship_graph() -> list[LoaderOption]:
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


def article_championships(session: OrmSession, slug: str) -> list[str] | None:
    """The championships an article is about ([] for none in particular), or None if absent."""
    found = article_by_slug(session, slug)
    return None if found is None else list(found.championships)


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


def championship_slugs(session: OrmSession) -> list[str]:
    """Every championship's slug."""
    return list(session.scalars(select(Championship.slug).order_by(Championship.slug)))


def competitor_slugs(session: OrmSession) -> list[str]:
    """Every competitor's slug."""
    return list(session.scalars(select(Competitor.slug).order_by(Competitor.slug)))


def round_numbers(
    session: OrmSession, championship_slug: str | None = None
) -> list[tuple[str, int]]:
    """``(championship slug, round number)`` of every round (of one championship if given)."""
    stmt = select(Championship.slug, Round.number).join(
        Round, Round.championship_id == Championship.id
    )
    if championship_slug is not None:
        stmt = stmt.where(Championship.slug == championship_slug)
    return [
        (slug, number)
        for slug, number in session.execute(stmt.order_by(Championship.slug, Round.number))
    ]


def competitor_slugs_in(session: OrmSession, championship_slug: str) -> list[str]:
    """Slugs of the competitors entered in a championship."""
    stmt = (
        select(Competitor.slug)
        .join(EntryDriver, EntryDriver.competitor_id == Competitor.id)
        .join(Entry, Entry.id == EntryDriver.entry_id)
        .join(Championship, Championship.id == Entry.championship_id)
        .where(Championship.slug == championship_slug)
        .distinct()
    )
    return sorted(session.scalars(stmt))


def article_audience(session: OrmSession, slug: str) -> tuple[list[str], list[str]]:
    """The championships and competitors an article is about now (empty when unknown)."""
    article = session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        return [], []
    return list(article.championships or ()), list(article.competitors or ())


def championships_with_rounds(session: OrmSession) -> Sequence[Championship]:
    """Every championship with its rounds and their circuits (no sessions), newest first."""
    return session.scalars(
        select(Championship)
        .options(selectinload(Championship.rounds).selectinload(Round.circuit))
        .order_by(Championship.season.desc(), Championship.name)
    ).all()


def championship_exists(session: OrmSession, slug: str) -> bool:
    """Whether a championship has this slug."""
    return session.scalar(select(Championship.id).where(Championship.slug == slug)) is not None


def competitor_exists(session: OrmSession, slug: str) -> bool:
    """Whether a competitor has this slug."""
    return session.scalar(select(Competitor.id).where(Competitor.slug == slug)) is not None


def by_slug(session: OrmSession, model: type[Any], slug: str) -> Any:
    """The row of ``model`` (any table with a unique ``slug``) with this slug, or None."""
    return session.scalar(select(model).where(model.slug == slug))


def article_by_slug(session: OrmSession, slug: str) -> Article | None:
    """One article, whatever its status, or None."""
    return session.scalar(select(Article).where(Article.slug == slug))


def round_of(session: OrmSession, championship: Championship, number: int) -> Round | None:
    """Round ``number`` of ``championship``, or None."""
    return session.scalar(
        select(Round).where(Round.championship == championship, Round.number == number)
    )


def session_of(session: OrmSession, round_: Round, slug: str) -> Session | None:
    """The session with ``slug`` in ``round_``, or None."""
    return session.scalar(select(Session).where(Session.round == round_, Session.slug == slug))


def entry_of(session: OrmSession, championship: Championship, slug: str) -> Entry | None:
    """The entry with ``slug`` in ``championship``, or None."""
    return session.scalar(
        select(Entry).where(Entry.championship == championship, Entry.slug == slug)
    )


def published_articles(
    session: OrmSession, championship: str | None = None, competitor: str | None = None
) -> list[Article]:
    """Published articles, newest first, about ``championship`` and ``competitor`` if given."""
    # JSON list columns are filtered in Python: portable across SQLite and PostgreSQL.
    articles = session.scalars(
        select(Article).where(Article.status == "published").order_by(Article.published_at.desc())
    ).all()
    return [
        a
        for a in articles
        if (championship is None or championship in a.championships)
        and (competitor is None or competitor in a.competitors)
    ]


def schedule_changes(session: OrmSession, championships: Sequence[str], limit: int) -> list[Change]:
    """The newest ``limit`` updates of sessions and rounds of ``championships``."""
    return list(
        session.scalars(
            select(Change)
            .where(
                Change.championship.in_(list(championships)),
                Change.entity.in_(["session", "round"]),
                Change.action == "updated",
            )
            .order_by(Change.id.desc())
            .limit(limit)
        )
    )


def results_corrections(session: OrmSession, championships: Sequence[str]) -> list[Change]:
    """Every correction of published results in ``championships``, oldest first."""
    return list(
        session.scalars(
            select(Change)
            .where(
                Change.championship.in_(list(championships)),
                Change.entity == "results",
                Change.action == "corrected",
            )
            .order_by(Change.id)
        )
    )


def session_by_key(session: OrmSession, key: str) -> Session | None:
    """A session by its public key, ``championship/round/slug``, or None."""
    championship, number, slug = split_session_key(key)
    return session.scalar(
        select(Session)
        .join(Round)
        .join(Championship)
        .where(Championship.slug == championship, Round.number == number, Session.slug == slug)
    )


def round_by_key(session: OrmSession, key: str) -> Round | None:
    """A round by its public key, ``championship/round``, or None."""
    championship, number = split_round_key(key)
    return session.scalar(
        select(Round)
        .join(Championship)
        .where(Championship.slug == championship, Round.number == number)
    )


def published_articles_page(
    session: OrmSession, limit: int, offset: int
) -> tuple[Sequence[Article], int]:
    """One page of published articles, newest first, and how many there are in all."""
    total = session.scalar(
        select(func.count()).select_from(Article).where(Article.status == "published")
    )
    page = session.scalars(
        select(Article)
        .where(Article.status == "published")
        .order_by(Article.published_at.desc(), Article.slug)
        .limit(limit)
        .offset(offset)
    ).all()
    return page, total or 0


def articles_about(
    session: OrmSession,
    championships: Sequence[str] = (),
    competitor: str | None = None,
    limit: int = 5,
) -> list[Article]:
    """The newest ``limit`` published articles about any of ``championships`` or about
    ``competitor`` (a competitor's page shows news of their championships too)."""
    wanted = set(championships)
    return [
        a
        for a in published_articles(session)
        if wanted.intersection(a.championships) or competitor in a.competitors
    ][:limit]


def names_by_slug(
    session: OrmSession, championships: Sequence[str], competitors: Sequence[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Display names of championship and competitor slugs, in the given order; unknown
    slugs are left out."""
    champs = {
        c.slug: c.name
        for c in session.scalars(
            select(Championship).where(Championship.slug.in_(list(championships)))
        )
    }
    people = {
        c.slug: c.name
        for c in session.scalars(select(Competitor).where(Competitor.slug.in_(list(competitors))))
    }
    return (
        {s: champs[s] for s in championships if s in champs},
        {s: people[s] for s in competitors if s in people},
    )


def rounds_with_results(session: OrmSession) -> frozenset[int]:
    """Ids of the rounds that have at least one session with published results."""
    return frozenset(
        session.scalars(
            select(Session.round_id).where(Session.results_status == "published").distinct()
        )
    )


def rounds_from(session: OrmSession, day: dt.date) -> Sequence[Round]:
    """Rounds not over before ``day``, with sessions, circuit and championship loaded (where
    the next session can be), by start date."""
    return (
        session.scalars(
            select(Round)
            .where(Round.end_date >= day)
            .options(
                selectinload(Round.sessions),
                selectinload(Round.circuit),
                selectinload(Round.championship),
            )
            .order_by(Round.start_date, Round.id)
        )
        .unique()
        .all()
    )


def change_epochs(session: OrmSession) -> tuple[int, dict[str, int]]:
    """The latest change id that belongs to no championship (a circuit, team or driver), and
    per championship the latest change of the championship itself or its entries.

    Together with each round's and session's revision and change time these say whether
    anything an event shows has changed (``publish.skeleton``).
    """
    unowned = session.scalar(
        select(func.max(Change.id)).where(Change.championship.is_(None), Change.entity != "article")
    )
    owned = session.execute(
        select(Change.championship, func.max(Change.id))
        .where(Change.championship.is_not(None), Change.entity.in_(["championship", "entry"]))
        .group_by(Change.championship)
    ).all()
    return unowned or 0, {slug: latest for slug, latest in owned}


def circuit_by_slug(session: OrmSession, slug: str) -> Circuit | None:
    """A circuit, or None."""
    return by_slug(session, Circuit, slug)


def all_circuits(session: OrmSession) -> Sequence[Circuit]:
    """Every circuit, by slug."""
    return session.scalars(select(Circuit).order_by(Circuit.slug)).all()


def team_by_slug(session: OrmSession, slug: str) -> Team | None:
    """A team, or None."""
    return by_slug(session, Team, slug)


def all_teams(session: OrmSession) -> Sequence[Team]:
    """Every team, by slug."""
    return session.scalars(select(Team).order_by(Team.slug)).all()


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


def series_slugs(session: OrmSession, championship_slug: str | None = None) -> list[str]:
    """The slugs of every series (or of one championship's series)."""
    stmt = select(Championship.series).distinct()
    if championship_slug is not None:
        stmt = stmt.where(Championship.slug == championship_slug)
    return sorted({slugify(name) for name in session.scalars(stmt) if name})


# -- what incremental calendar publishing reads (``publish.skeleton``, ``publish.parts``) ---


def championship_rows(session: OrmSession) -> list[Any]:
    """Every championship's own columns, in feed order (newest season first, then name)."""
    return list(
        session.execute(
            select(
                Championship.id,
                Championship.slug,
                Championship.name,
                Championship.short_name,
                Championship.series,
                Championship.season,
            ).order_by(Championship.season.desc(), Championship.name)
        )
    )


def round_rows(session: OrmSession, ids: Sequence[int] | None = None) -> list[Any]:
    """Every round's (or these rounds') own columns and circuit name, by championship and
    number."""
    stmt = select(
        Round.id,
        Round.championship_id,
        Round.number,
        Round.name,
        Round.circuit_id,
        Circuit.name.label("circuit_name"),
        Round.start_date,
        Round.end_date,
        Round.status,
        Round.field_size,
        Round.note,
        Round.revision,
        Round.updated_at,
    ).join(Circuit, Circuit.id == Round.circuit_id)
    if ids is not None:
        stmt = stmt.where(Round.id.in_(list(ids)))
    return list(session.execute(stmt.order_by(Round.championship_id, Round.number)))


def session_stamp_rows(session: OrmSession, round_ids: Sequence[int] | None = None) -> list[Any]:
    """Every session's (or these rounds' sessions') round, order and change marks (what says
    its events changed)."""
    stmt = select(
        Session.round_id,
        Session.id,
        Session.position,
        Session.revision,
        Session.updated_at,
        Session.status,
        Session.results_status,
        Session.results_revision,
        Session.results_updated_at,
    )
    if round_ids is not None:
        stmt = stmt.where(Session.round_id.in_(list(round_ids)))
    return list(session.execute(stmt.order_by(Session.round_id, Session.position, Session.id)))


def latest_change_id(session: OrmSession) -> int:
    """The id of the newest change record (0 when none): writers take ids in commit order."""
    return session.scalar(select(func.max(Change.id))) or 0


def changes_between(session: OrmSession, after: int, upto: int) -> list[tuple[str, str]]:
    """``(entity, key)`` of the change records with ids in ``(after, upto]``."""
    stmt = select(Change.entity, Change.key).where(Change.id > after, Change.id <= upto)
    return [(entity, key) for entity, key in session.execute(stmt)]


def competitor_row(session: OrmSession, slug: str) -> Any | None:
    """A competitor's id, slug and name, or None."""
    return session.execute(
        select(Competitor.id, Competitor.slug, Competitor.name).where(Competitor.slug == slug)
    ).first()


def entered_championship_ids(session: OrmSession, competitor_id: int) -> set[int]:
    """The ids of the championships a competitor is entered in."""
    return set(session.scalars(_entered_championship_ids(competitor_id)))


def rounds_with_own_results(session: OrmSession, competitor_id: int) -> set[int]:
    """The rounds in which some session has a result credited to the competitor (the
    result's own driver, or the entry's drivers when the result names none)."""
    own_entries = select(EntryDriver.entry_id).where(EntryDriver.competitor_id == competitor_id)
    credited = or_(
        Result.driver_id == competitor_id,
        Result.driver_id.is_(None) & Result.entry_id.in_(own_entries),
    )
    stmt = select(Session.round_id).join(Result, Result.session_id == Session.id).where(credited)
    return set(session.scalars(stmt.distinct()))


def rounds_by_ids(session: OrmSession, ids: Sequence[int]) -> dict[int, Round]:
    """The rounds with these ids, each with everything its events show loaded."""
    results = selectinload(Round.sessions).selectinload(Session.results)
    rounds = session.scalars(
        select(Round)
        .where(Round.id.in_(list(ids)))
        .options(
            selectinload(Round.circuit),
            selectinload(Round.championship),
            results.joinedload(Result.driver),
            results.joinedload(Result.entry).joinedload(Entry.team),
            results.joinedload(Result.entry)
            .selectinload(Entry.drivers)
            .joinedload(EntryDriver.competitor),
        )
    ).all()
    return {r.id: r for r in rounds}


# -- news feeds: only the rows a feed can show ----------------------------------------------
#
# A news feed shows the newest ``limit`` of its articles, results and schedule changes, in the
# order (published, updated, id) descending. Each query below returns the newest ``limit`` of
# one kind in exactly that order, so the feed's newest ``limit`` are among them, and loads
# nothing else: the cost follows ``limit``, not the data set.

# Every results status a feed shows an entry for (all but "none").
SHOWN_RESULTS = tuple(status for status in RESULTS_STATUSES if status != "none")
# Articles read per round trip while looking for ``limit`` about one scope.
ARTICLE_BATCH = 200


def _binary(session: OrmSession, text: ColumnElement[str]) -> ColumnElement[str]:
    """``text`` compared code point by code point, as Python compares strings (the feeds'
    ids break ties); PostgreSQL's default collation would order "-" and "/" otherwise."""
    return text.collate("C" if session.get_bind().dialect.name == "postgresql" else "BINARY")


def newest_articles(
    session: OrmSession,
    limit: int,
    championship: str | None = None,
    competitor: str | None = None,
) -> list[Article]:
    """The newest ``limit`` published articles about ``championship`` (or ``competitor``),
    ordered as a feed orders them: published, updated, then slug (the id's tail)."""
    # JSON list columns are filtered in Python (portable across SQLite and PostgreSQL), a
    # batch at a time, stopping as soon as ``limit`` match.
    stmt = (
        select(Article)
        .where(Article.status == "published")
        .order_by(
            Article.published_at.desc(),
            Article.updated_at.desc(),
            _binary(session, Article.slug).desc(),
        )
    )
    found: list[Article] = []
    offset = 0
    while len(found) < limit:
        batch = session.scalars(stmt.limit(ARTICLE_BATCH).offset(offset)).all()
        found += [
            a
            for a in batch
            if (championship is None or championship in a.championships)
            and (competitor is None or competitor in a.competitors)
        ]
        if len(batch) < ARTICLE_BATCH:
            break
        offset += ARTICLE_BATCH
    return found[:limit]


def _credited(competitor_id: int) -> ColumnElement[bool]:
    """Whether a session has a result credited to the competitor: the result's one driver,
    or, where none is named, one of the entry's drivers (``Result.credited``)."""
    via_entry = exists().where(
        EntryDriver.entry_id == Result.entry_id, EntryDriver.competitor_id == competitor_id
    )
    return exists().where(
        Result.session_id == Session.id,
        or_(Result.driver_id == competitor_id, and_(Result.driver_id.is_(None), via_entry)),
    )


def newest_results_sessions(
    session: OrmSession,
    limit: int,
    championships: Sequence[str] | None = None,
    competitor: Competitor | None = None,
) -> list[int]:
    """Ids of the newest ``limit`` sessions with results (published or withdrawn) in
    ``championships`` (None: all), credited to ``competitor`` if given, in feed order."""
    # The results entry's published, updated and the tail of its id (``results_item``).
    published = func.coalesce(Session.results_published_at, Session.updated_at)
    updated = func.coalesce(
        Session.results_updated_at, Session.results_published_at, Session.updated_at
    )
    tail = Championship.slug + "/" + cast(Round.number, String) + "/" + Session.slug
    stmt = (
        select(Session.id)
        .join(Round, Round.id == Session.round_id)
        .join(Championship, Championship.id == Round.championship_id)
        .where(Session.results_status.in_(SHOWN_RESULTS))
    )
    if championships is not None:
        stmt = stmt.where(Championship.slug.in_(list(championships)))
    if competitor is not None:
        stmt = stmt.where(_credited(competitor.id))
    stmt = stmt.order_by(published.desc(), updated.desc(), _binary(session, tail).desc())
    return list(session.scalars(stmt.limit(limit)))


def sessions_for_news(session: OrmSession, ids: Sequence[int]) -> list[Session]:
    """The sessions ``ids`` with what a results entry shows loaded: round, circuit,
    championship, results, their entries, teams, drivers and credited competitors."""
    if not ids:
        return []
    round_ = joinedload(Session.round)
    results = selectinload(Session.results)
    entry = results.joinedload(Result.entry)
    return list(
        session.scalars(
            select(Session)
            .where(Session.id.in_(list(ids)))
            .options(
                round_.joinedload(Round.circuit),
                round_.joinedload(Round.championship),
                results.joinedload(Result.driver),
                entry.joinedload(Entry.team),
                entry.selectinload(Entry.drivers).joinedload(EntryDriver.competitor),
            )
        ).unique()
    )


def corrections_of(
    session: OrmSession, keys: Sequence[str], championships: Sequence[str]
) -> list[Change]:
    """Every correction of the results of the sessions ``keys`` recorded for
    ``championships``, oldest first."""
    if not keys:
        return []
    found = session.scalars(
        select(Change)
        .where(
            Change.key.in_(list(keys)),
            Change.entity == "results",
            Change.action == "corrected",
        )
        .order_by(Change.id)
    )
    # The championship is checked here, not in SQL, so the lookup goes by key (a handful of
    # rows) whatever the planner guesses about the championship index.
    wanted = set(championships)
    return [change for change in found if change.championship in wanted]


def schedule_objects(
    session: OrmSession, changes: Sequence[Change], championships: Sequence[str] | None
) -> dict[str, Session | Round]:
    """The sessions and rounds ``changes`` name, by key, with round, circuit and
    championship loaded; only those in ``championships`` (None: all)."""
    session_keys, round_keys = [], []
    for change in changes:
        if change.entity == "session":
            session_keys.append(split_session_key(change.key))
        elif change.entity == "round":
            round_keys.append(split_round_key(change.key))
    if championships is not None:
        wanted = set(championships)
        session_keys = [k for k in session_keys if k[0] in wanted]
        round_keys = [k for k in round_keys if k[0] in wanted]
    objects: dict[str, Session | Round] = {}
    if session_keys:
        round_ = joinedload(Session.round)
        found = session.scalars(
            select(Session)
            .join(Round, Round.id == Session.round_id)
            .join(Championship, Championship.id == Round.championship_id)
            .where(tuple_(Championship.slug, Round.number, Session.slug).in_(session_keys))
            .options(round_.joinedload(Round.circuit), round_.joinedload(Round.championship))
        )
        for s in found:
            objects[session_key(s.round.championship.slug, s.round.number, s.slug)] = s
    if round_keys:
        found_rounds = session.scalars(
            select(Round)
            .join(Championship, Championship.id == Round.championship_id)
            .where(tuple_(Championship.slug, Round.number).in_(round_keys))
            .options(joinedload(Round.circuit), joinedload(Round.championship))
        )
        for r in found_rounds:
            objects[round_key(r.championship.slug, r.number)] = r
    return objects


def entered_championships(session: OrmSession, competitor: Competitor) -> dict[str, str]:
    """Slug to name of the championships ``competitor`` is entered in."""
    stmt = select(Championship.slug, Championship.name).where(
        Championship.id.in_(_entered_championship_ids(competitor.id))
    )
    return {slug: name for slug, name in session.execute(stmt)}


def championship_name(session: OrmSession, slug: str) -> str | None:
    """A championship's name, or None when no championship has this slug."""
    return session.scalar(select(Championship.name).where(Championship.slug == slug))
