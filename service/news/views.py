"""HTTP for the news feeds: parse the query, load, render through the cache, set headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import Blueprint, Response, abort, current_app, request

from ..domain import queries
from ..domain.models import Championship, Change, Competitor
from ..store.data_version import current_data_version, data_state
from ..store.engine import read_session
from ..web.http_cache import Rendered, feed_response, render_cached
from ..web.params import number_arg
from ..web.site import current_site, hub_url
from .entries import Scope, collect_items, feed_updated
from .formats import CONTENT_TYPES, FeedMeta, render

bp = Blueprint("news_feeds", __name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
FORMATS = tuple(CONTENT_TYPES)
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# The date in every feed-level tag: id. Part of the ids subscribers store: never change it.
FEED_ID_DATE = dt.date(2023, 1, 1)


def parse_limit(raw: str | None) -> int:
    """``?limit=`` as an int in 1..500 (default 50); abort 400 naming the parameter otherwise."""
    return number_arg(raw, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)


def _changes(session, championships: Sequence[Championship], limit: int) -> list[Change]:
    slugs = [c.slug for c in championships]
    return [
        *queries.results_corrections(session, slugs),
        *queries.schedule_changes(session, slugs, limit),
    ]


def _serve(kind: str | None, slug: str | None, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    limit = parse_limit(request.args.get("limit"))
    session = read_session()
    version = current_data_version()
    site = current_site()
    self_url = f"{site.base_url}{request.full_path.rstrip('?')}"
    hub = hub_url()

    def build() -> Rendered:
        return _render(session, kind, slug, fmt, limit, site, self_url, hub)

    key = ("news", kind, slug, fmt, limit, self_url, hub)
    rendered = render_cached(key, version, build)
    if rendered is None:
        abort(404, description=f"no {kind[:-1]} {slug!r}")
    links = [(self_url, "self")] + ([(hub, "hub")] if hub else [])
    max_age = current_app.config["FEED_REFRESH_MINUTES"] * 60
    return feed_response(rendered, max_age, links=links)


def _render(session, kind, slug, fmt, limit, site, self_url, hub) -> Rendered | None:
    competitor: Competitor | None = None
    if kind is None:
        championships = queries.all_championships(session)
        scope, title, home = Scope(), "gridfeed: all news", site.url("/")
        articles = queries.published_articles(session, None, None)
    elif kind == "championships":
        championship = queries.championship_by_slug(session, slug)
        if championship is None:
            return None
        championships = [championship]
        scope = Scope(championships=frozenset([slug]))
        title, home = f"{championship.name}: news and results", site.url(f"/championships/{slug}")
        articles = queries.published_articles(session, slug, None)
    else:
        competitor = queries.competitor_by_slug(session, slug)
        if competitor is None:
            return None
        championships = queries.championships_of(session, competitor)
        scope = Scope(championships=frozenset(c.slug for c in championships), competitor=slug)
        title, home = f"{competitor.name}: news and results", site.url(f"/competitors/{slug}")
        articles = queries.published_articles(session, None, slug)
    items = collect_items(
        site=site,
        scope=scope,
        championships=championships,
        articles=articles,
        changes=_changes(session, championships, limit),
        competitor=competitor,
        limit=limit,
    )
    state = data_state(session)
    updated = feed_updated(items, (state.changed_at if state and state.changed_at else EPOCH))
    scope_id = "all" if kind is None else f"{kind}/{slug}"
    meta = FeedMeta(
        id=site.tag(FEED_ID_DATE, f"news/{scope_id}"),
        title=title,
        description=f"{title}: articles, results and schedule changes from gridfeed",
        self_url=self_url,
        home_url=home,
        hub_url=hub,
        updated=updated,
        author="gridfeed",
        format=fmt,
    )
    scope_slugs = None if kind is None else [c.slug for c in championships]
    changed = max(updated, queries.last_change_at(session, scope_slugs) or updated)
    return Rendered.of(render(meta, items), CONTENT_TYPES[fmt], changed)


@bp.get("/news.<fmt>")
def all_news(fmt: str) -> Response:
    """Every article, result and schedule change."""
    return _serve(None, None, fmt)


@bp.get("/championships/<slug>/news.<fmt>")
def championship_news(slug: str, fmt: str) -> Response:
    """One championship's news."""
    return _serve("championships", slug, fmt)


@bp.get("/competitors/<slug>/news.<fmt>")
def competitor_news(slug: str, fmt: str) -> Response:
    """One competitor's news, their own results first in each results entry."""
    return _serve("competitors", slug, fmt)
