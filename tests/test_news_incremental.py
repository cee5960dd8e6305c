"""News feeds load only what they show (issue 11): every news feed, served over HTTP, is
byte-identical to the reference built the way feeds were built before, from the whole
championship graph (every round, session, result and entry), on the shipped seed and on a
synthetic data set, for every scope, format and several ``?limit=`` values.

The reference below is the pre-change code path kept as a test oracle: it loads everything,
builds an item for every session with results, every article and the newest schedule
changes, sorts them all and keeps the newest ``limit``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Flask
from sqlalchemy import select

from benchmarks.synthetic import build
from service.domain import queries
from service.domain.keys import round_key, session_key
from service.domain.models import Article, Championship, Change, Competitor, Round, Session
from service.domain.site import Site
from service.news.entries import (
    NewsItem,
    Scope,
    article_item,
    feed_updated,
    results_item,
    schedule_item,
)
from service.news.formats import CONTENT_TYPES, FeedMeta
from service.news.formats import render as render_news
from service.publish import publisher
from service.publish.feeds import NEWS, NEWS_FORMATS, FeedSpec
from service.store.data_version import data_state
from service.store.engine import get_store
from service.writes import write

# Dates shown in every feed's own id and the fallback "updated" (as the renderer has them).
FEED_ID_DATE = dt.date(2023, 1, 1)
NEWS_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
ORIGIN = "http://localhost"
LIMITS = (50, 1, 3, 7, 500)
T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


# -- the reference: today's path, from the whole graph --------------------------------------


def _reference_objects(championships: Iterable[Championship]) -> dict[str, Any]:
    objects: dict[str, Any] = {}
    for championship in championships:
        for round_ in championship.rounds:
            objects[round_key(championship.slug, round_.number)] = round_
            for session in round_.sessions:
                objects[session_key(championship.slug, round_.number, session.slug)] = session
    return objects


def reference_items(
    *,
    site: Site,
    scope: Scope,
    championships: Sequence[Championship],
    articles: Sequence[Article],
    changes: Sequence[Change],
    competitor: Competitor | None,
    limit: int,
) -> list[NewsItem]:
    """Every entry of a feed from the whole graph, newest first, at most ``limit``."""
    names = {c.slug: c.name for c in championships}
    if competitor is not None:
        names[competitor.slug] = competitor.name
    items: list[NewsItem] = []
    for article in articles:
        if article.status != "published":
            continue
        if competitor is not None and competitor.slug not in article.competitors:
            continue
        if competitor is None and not scope.covers(article.championships):
            continue
        items.append(article_item(article, site, names))
    corrections: dict[str, list[Change]] = {}
    for change in changes:
        if change.entity == "results" and change.action == "corrected":
            corrections.setdefault(change.key, []).append(change)
    for championship in championships:
        if not scope.covers([championship.slug]):
            continue
        for round_ in championship.rounds:
            for session in round_.sessions:
                if session.results_status == "none":
                    continue
                if competitor is not None and not any(
                    competitor in r.credited for r in session.results
                ):
                    continue
                key = session_key(championship.slug, round_.number, session.slug)
                items.append(results_item(session, site, competitor, corrections.get(key, [])))
    objects = _reference_objects(championships)
    for change in changes:
        if change.championship is None or not scope.covers([change.championship]):
            continue
        item = schedule_item(change, site, objects)
        if item is not None:
            items.append(item)
    items.sort(key=lambda item: (item.published, item.updated, item.id), reverse=True)
    return items[:limit]


def _corrections(session: Any, championships: Sequence[str]) -> list[Change]:
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


def _schedule_changes(session: Any, championships: Sequence[str], limit: int) -> list[Change]:
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


def reference_feed(app: Flask, spec: FeedSpec) -> tuple[bytes, dt.datetime] | None:
    """The bytes and Last-Modified of a news feed built from the whole graph."""
    site = publisher.site_for(app, ORIGIN)
    hub = publisher.hub_for(app, ORIGIN)
    with get_store(app).sessions() as session:
        everything = queries.all_championships(session)
        articles = queries.published_articles(session)
        competitor = None
        slug = spec.slug
        if spec.kind == "all":
            championships = list(everything)
            scope, title, home = Scope(), "gridfeed: all news", site.url("/")
        elif spec.kind == "championship":
            championships = [c for c in everything if c.slug == slug]
            if not championships:
                return None
            scope = Scope(championships=frozenset([slug]))
            title = f"{championships[0].name}: news and results"
            home = site.url(f"/championships/{slug}")
            articles = [a for a in articles if slug in a.championships]
        else:
            competitor = queries.competitor_by_slug(session, slug)
            if competitor is None:
                return None
            championships = [
                c
                for c in everything
                if any(link.competitor_id == competitor.id for e in c.entries for link in e.drivers)
            ]
            scope = Scope(championships=frozenset(c.slug for c in championships), competitor=slug)
            title = f"{competitor.name}: news and results"
            home = site.url(f"/competitors/{slug}")
            articles = [a for a in articles if slug in a.competitors]
        slugs = [c.slug for c in championships]
        items = reference_items(
            site=site,
            scope=scope,
            championships=championships,
            articles=articles,
            changes=[
                *_corrections(session, slugs),
                *_schedule_changes(session, slugs, spec.limit),
            ],
            competitor=competitor,
            limit=spec.limit,
        )
        state = data_state(session)
        fallback = state.changed_at if state and state.changed_at else NEWS_EPOCH
        updated = feed_updated(items, fallback)
        scope_id = "all" if spec.kind == "all" else f"{spec.kind}s/{slug}"
        meta = FeedMeta(
            id=site.tag(FEED_ID_DATE, f"news/{scope_id}"),
            title=title,
            description=f"{title}: articles, results and schedule changes from gridfeed",
            self_url=spec.key(site.base_url),
            home_url=home,
            hub_url=hub,
            updated=updated,
            author="gridfeed",
            format=spec.fmt,
        )
        scoped = None if spec.kind == "all" else slugs
        changed = max(updated, queries.last_change_at(session, scoped) or updated)
        return render_news(meta, items), changed


# -- data that exercises ties, corrections, withdrawals and credited drivers ---------------


def _session_fields(session: Session, **changes: Any) -> dict[str, Any]:
    fields = {
        "name": session.name,
        "kind": session.kind,
        "local_date": session.local_date,
        "local_time": session.local_time,
        "duration_minutes": session.duration_minutes,
        "status": session.status,
    }
    return {**fields, **changes}


def _lines(session: Session, shift: int) -> list[dict[str, Any]]:
    return [
        {
            "entry": r.entry,
            "driver": r.driver,
            "position": None if r.position is None else r.position + shift,
            "outcome": r.outcome,
        }
        for r in session.results
    ]


def _sessions(w: Any) -> list[Session]:
    return list(w.session.scalars(select(Session).order_by(Session.id)))


def enrich(app: Flask) -> None:
    """Schedule changes (some at one instant, so their ids break the tie), a correction, a
    withdrawal, a cleared classification, a one-driver result and articles tied on time."""
    for step in range(4):
        with write(app, actor="test", now=T0) as w:
            timed = [s for s in _sessions(w) if s.local_date is not None]
            target = timed[step % len(timed)]
            w.upsert_session(
                target.round,
                target.slug,
                _session_fields(target, local_time=dt.time(8 + step, 5)),
            )
    with write(app, actor="test", now=T0 + dt.timedelta(hours=1)) as w:
        sessions = _sessions(w)
        target = sessions[-1]
        w.upsert_session(target.round, target.slug, _session_fields(target, status="cancelled"))
        round_ = w.session.scalar(select(Round).order_by(Round.id.desc()).limit(1))
        w.upsert_round(
            round_.championship,
            round_.number,
            {
                "name": round_.name,
                "circuit": round_.circuit,
                "start_date": round_.start_date,
                "end_date": round_.end_date,
                "status": "postponed",
                "field_size": round_.field_size,
                "note": round_.note,
            },
        )
    with write(app, actor="test", now=T0 + dt.timedelta(hours=2)) as w:
        with_results = [s for s in _sessions(w) if s.results_status == "published"]
        w.set_results(with_results[0], "published", _lines(with_results[0], 1))
        w.set_results(with_results[-1], "withdrawn", _lines(with_results[-1], 0))
        if len(with_results) > 2:
            w.set_results(with_results[1], "none", [])
        # A result credited to one driver of a shared car (a qualifying).
        entry = with_results[0].results[0].entry
        bare = next(
            s
            for s in _sessions(w)
            if s.results_status == "none" and s.round.championship is entry.championship
        )
        w.set_results(
            bare,
            "published",
            [{"entry": entry, "driver": entry.competitors[-1], "position": 2}],
            published_at=T0 + dt.timedelta(hours=2),
        )
    championships = queries_slugs(app)
    competitors = competitor_slugs(app)
    with write(app, actor="test", now=T0 + dt.timedelta(hours=3)) as w:
        for index, slug in enumerate(("tie-b", "tie-a", "tie-c", "draft", "elsewhere")):
            w.upsert_article(
                slug,
                {
                    "title": f"Article {slug}",
                    "summary": None,
                    "body_markdown": f"Text of **{slug}**.",
                    "author": None,
                    "published_at": T0 + dt.timedelta(hours=3),
                    "status": "unpublished" if slug == "draft" else "published",
                    "championships": (
                        ["no-such-championship"] if slug == "elsewhere" else championships[:1]
                    ),
                    "competitors": competitors[index % len(competitors) :][:1],
                    "rounds": [],
                    "links": [],
                },
            )


def queries_slugs(app: Flask) -> list[str]:
    with get_store(app).sessions() as session:
        return queries.championship_slugs(session)


def competitor_slugs(app: Flask) -> list[str]:
    with get_store(app).sessions() as session:
        return queries.competitor_slugs(session)


def every_news_spec(app: Flask) -> list[FeedSpec]:
    """Every news feed of every scope and format, with each of ``LIMITS``."""
    scopes = [("all", None)]
    scopes += [("championship", slug) for slug in queries_slugs(app)]
    scopes += [("competitor", slug) for slug in competitor_slugs(app)]
    return [
        FeedSpec(NEWS, kind, slug, fmt=fmt, limit=limit)
        for kind, slug in scopes
        for fmt in NEWS_FORMATS
        for limit in LIMITS
    ]


def assert_every_feed_matches_reference(app: Flask) -> int:
    """Fetch every news feed over HTTP and compare it with the reference; return how many."""
    client = app.test_client()
    specs = every_news_spec(app)
    for spec in specs:
        url = spec.path + (f"?{spec.query}" if spec.query else "")
        response = client.get(url)
        expected = reference_feed(app, spec)
        assert expected is not None
        body, changed = expected
        assert response.status_code == 200, (url, response.data[:200])
        assert response.headers["Content-Type"] == CONTENT_TYPES[spec.fmt]
        assert response.data == body, url
        assert response.last_modified == changed.replace(microsecond=0), url
    return len(specs)


def test_seed_news_feeds_match_the_whole_graph_reference(app: Flask) -> None:
    assert assert_every_feed_matches_reference(app) > 0
    enrich(app)
    assert assert_every_feed_matches_reference(app) > 0


def test_synthetic_news_feeds_match_the_whole_graph_reference(empty_app: Flask) -> None:
    build(empty_app, championships=3)
    enrich(empty_app)
    client = empty_app.test_client()
    # Enough schedule changes and results at one instant that every limit cuts a tie.
    all_atom = client.get("/news.json?limit=500").get_json()["items"]
    assert len(all_atom) > max(limit for limit in LIMITS if limit < 500)
    assert assert_every_feed_matches_reference(empty_app) > 0


def test_unknown_scopes_are_404(client: Any) -> None:
    for url in ("/championships/no-such/news.atom", "/competitors/no-such/news.json"):
        assert client.get(url).status_code == 404
