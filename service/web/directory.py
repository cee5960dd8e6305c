"""Every feed in one place: ``/feeds.opml``, ``/championships/<slug>/feeds.opml`` and the
``/feeds`` page for people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Blueprint, Response, abort, render_template
from sqlalchemy.orm import Session as OrmSession

from ..domain import queries
from ..domain.models import Championship, Competitor
from ..publish.rendering import Rendered
from ..store.data_version import current_data_version
from ..store.engine import read_session
from .feed_links import FeedLink, feed_links, round_calendar_link
from .http_cache import cacheable_response, render_cached
from .opml import Group, render_opml
from .site import current_site

bp = Blueprint("directory", __name__)
OPML_TYPE = "text/x-opml; charset=utf-8"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def championship_group(championship: Championship, base_url: str) -> Group:
    """A championship's feeds, then one calendar per round."""
    slug = championship.slug
    rounds = [
        Group(
            f"Round {r.number}: {r.display_name}",
            f"{base_url}/championships/{slug}/rounds/{r.number}",
            [round_calendar_link(slug, r.number)],
        )
        for r in championship.rounds
    ]
    return Group(
        championship.name,
        f"{base_url}/championships/{slug}",
        feed_links("championships", slug),
        rounds,
    )


def competitor_group(competitor: Competitor, base_url: str) -> Group:
    """A competitor's feeds."""
    return Group(
        competitor.name,
        f"{base_url}/competitors/{competitor.slug}",
        feed_links("competitors", competitor.slug),
    )


Listing = Callable[[OrmSession, str], tuple[str, list[Group]] | None]


def _opml(key: tuple[object, ...], listing: Listing) -> Response:
    """Serve the OPML of ``listing`` (title and groups, None for a 404) with HTTP caching."""
    site = current_site()

    def render() -> Rendered | None:
        session = read_session()
        found = listing(session, site.base_url)
        if found is None:
            return None
        title, groups = found
        changed = queries.last_change_at(session) or EPOCH
        return Rendered.of(render_opml(title, site.base_url, groups, changed), OPML_TYPE, changed)

    rendered = render_cached(("opml", *key, site), current_data_version(), render)
    if rendered is None:
        abort(404, description=f"no {' '.join(str(k) for k in key)}")
    return cacheable_response(rendered, site.refresh_minutes * 60)


@bp.get("/feeds.opml")
def all_feeds_opml() -> Response:
    """Every feed, grouped by championship and by competitor (OPML 2.0)."""

    def listing(session: OrmSession, base_url: str) -> tuple[str, list[Group]]:
        everything = Group("gridfeed: everything", f"{base_url}/", feed_links())
        championships = [
            championship_group(c, base_url) for c in queries.all_championships(session)
        ]
        competitors = Group(
            "Competitors",
            f"{base_url}/feeds",
            [],
            [competitor_group(c, base_url) for c in queries.all_competitors(session)],
        )
        return "gridfeed: every feed", [everything, *championships, competitors]

    return _opml(("all",), listing)


@bp.get("/championships/<slug>/feeds.opml")
def championship_opml(slug: str) -> Response:
    """One championship's feeds, its rounds' calendars and its competitors' feeds."""

    def listing(session: OrmSession, base_url: str) -> tuple[str, list[Group]] | None:
        found = queries.championship_by_slug(session, slug)
        if found is None:
            return None
        entered = Group(
            "Competitors",
            f"{base_url}/championships/{slug}",
            [],
            [competitor_group(c, base_url) for c in competitors_of(found)],
        )
        return f"gridfeed: {found.name}", [championship_group(found, base_url), entered]

    return _opml(("championship", slug), listing)


def round_calendars(championship: Championship) -> list[FeedLink]:
    """Each round's calendar, labelled with the round."""
    return [
        FeedLink(f"Round {r.number}, {r.display_name}", link.path, link.media_type)
        for r in championship.rounds
        for link in [round_calendar_link(championship.slug, r.number)]
    ]


def competitors_of(championship: Championship) -> list[Competitor]:
    """The competitors entered in a championship, by name, each once."""
    seen = {c.slug: c for e in championship.entries for c in e.competitors}
    return sorted(seen.values(), key=lambda c: c.name)


@bp.get("/feeds")
def feeds_page() -> str:
    """Every feed URL for people, grouped like the OPML."""
    session = read_session()
    return render_template(
        "feeds.html",
        championships=queries.all_championships(session),
        competitors=queries.all_competitors(session),
        feed_links=feed_links,
        round_calendars=round_calendars,
    )
