"""HTML pages for people: home, championships, rounds, competitors, news, plus the health
check and the subscribe panel's QR code."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError

from ..domain import queries
from ..domain.models import Round, Session
from ..domain.timesheet import slugify
from ..domain.timing import (
    describe_local,
    next_round,
    next_session,
    round_state,
    session_time,
    utc_iso,
    zone,
)
from ..domain.wording import date_text, instant_text, result_line_text, span_text
from ..news.entries import results_table
from ..news.markup import markdown_to_html
from ..publish.stored import publish_version
from ..store.data_version import data_version
from ..store.engine import check_writes_commit, ping, read_session
from .feed_links import calendar_link, feed_links, news_links
from .http_cache import RETRY_AFTER_SECONDS
from .params import number_arg
from .site import base_url
from .subscribe import google_event_link, panel, parse_choice, qr_svg
from .timezones import PICKER_ZONES, viewer_zone

bp = Blueprint("pages", __name__)
NEWS_PAGE_SIZE = 20
MAX_NEWS_PAGE = 100_000
LATEST_NEWS = 5
SITE_DESCRIPTION = (
    "Motorsport calendars, results and news you can subscribe to: every session in your "
    "calendar app, in your own time."
)


def time_tag(instant: dt.datetime, zone_name: str | None) -> Markup:
    """``<time datetime="…Z">`` showing ``instant`` in ``zone_name`` (UTC when None).

    static/local-time.js rewrites the text in the viewer's own zone.
    """
    shown = instant.astimezone(zone(zone_name) if zone_name else dt.UTC)
    return Markup('<time datetime="{}">{}</time>').format(utc_iso(instant), instant_text(shown))


def local_time_tag(instant: dt.datetime) -> Markup:
    """The circuit's wall time as ``<time>`` with its offset (no Z: the script leaves it)."""
    return Markup('<time datetime="{}">{}</time>').format(
        instant.isoformat(timespec="minutes"), instant_text(instant)
    )


def until(instant: dt.datetime) -> str:
    """ "in 3 days 4 h", "in 2 h 5 min", "started": the countdown's text without JavaScript
    (static/local-time.js writes the same words)."""
    minutes = int((instant - dt.datetime.now(dt.UTC)).total_seconds() // 60)
    if minutes < 0:
        return "started"
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"in {days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"in {hours} h {mins} min"
    return f"in {max(mins, 1)} min"


def session_ics_path(session: Session) -> str:
    """The one-event calendar of a session (same UID as in every feed)."""
    round_ = session.round
    return url_for(
        "calendars.session_calendar",
        slug=round_.championship.slug,
        number=round_.number,
        session_slug=session.slug,
    )


def session_google_link(session: Session) -> str | None:
    """Google Calendar's "add event" link for a session, None when its day is unknown."""
    round_ = session.round
    championship = round_.championship
    page = base_url() + url_for("pages.round_page", slug=championship.slug, number=round_.number)
    circuit = round_.circuit
    location = ", ".join(p for p in (circuit.name, circuit.locality, circuit.country_code) if p)
    return google_event_link(
        f"{championship.short_name or championship.name}: {session.name}, {round_.display_name}",
        session_time(session),
        f"{championship.name}, round {round_.number}. {page}",
        location,
    )


def _page(template: str, *, description: str, canonical_query: str = "", **context: Any) -> str:
    """Render a page with the helpers every template uses and its canonical URL (the path,
    plus ``canonical_query`` where the query names a different page, e.g. ``?page=2``)."""
    tz = viewer_zone(request.args)
    return render_template(
        template,
        feed_links=feed_links,
        session_time=session_time,
        describe_local=describe_local,
        results_table=results_table,
        result_line_text=result_line_text,
        date_text=date_text,
        span_text=span_text,
        time_tag=lambda instant: time_tag(instant, tz),
        local_time_tag=local_time_tag,
        until=until,
        session_ics_path=session_ics_path,
        session_google_link=session_google_link,
        viewer_tz=tz,
        picker_zones=PICKER_ZONES,
        page_description=description,
        canonical_url=base_url() + request.path + canonical_query,
        **context,
    )


def _calendar_panel(name: str, path: str) -> Any:
    return panel(name, base_url() + path, parse_choice(request.args))


def _statuses(rounds: list[Round]) -> dict[int, str]:
    """Each round's derived status by id ("completed", "next", …)."""
    today = dt.datetime.now(dt.UTC).date()
    upcoming = next_round(rounds, today)
    with_results = queries.rounds_with_results(read_session())
    return {r.id: round_state(r, today, r.id in with_results, upcoming) for r in rounds}


def _countdown(rounds: list[Round]) -> Any:
    return next_session(rounds, dt.datetime.now(dt.UTC))


@bp.get("/")
def home() -> str:
    """Championships with their rounds, competitors, latest news and the subscribe panel."""
    session = read_session()
    championships = queries.championships_with_rounds(session)
    rounds = [r for c in championships for r in c.rounds]
    articles, _ = queries.published_articles_page(session, LATEST_NEWS, 0)
    return _page(
        "home.html",
        description=SITE_DESCRIPTION,
        championships=championships,
        competitors=queries.all_competitors(session),
        articles=articles,
        statuses=_statuses(rounds),
        # Only rounds not yet over can hold the next session: no need to load every session.
        upcoming=_countdown(
            list(queries.rounds_from(session, dt.datetime.now(dt.UTC).date() - dt.timedelta(1)))
        ),
        panel=_calendar_panel("gridfeed: all championships", calendar_link().path),
    )


@bp.get("/championships/<slug>")
def championship(slug: str) -> str:
    """A championship's calendar, entries, results and news."""
    session = read_session()
    found = queries.championship_by_slug(session, slug)
    if found is None:
        abort(404, description=f"no championship {slug!r}")
    return _page(
        "championship.html",
        description=found.description or f"{found.name}: calendar, results and news.",
        championship=found,
        statuses=_statuses(list(found.rounds)),
        upcoming=_countdown(list(found.rounds)),
        articles=queries.articles_about(session, [found.slug], limit=LATEST_NEWS),
        panel=_calendar_panel(found.name, calendar_link("championships", slug).path),
        next_season=queries.next_season(session, found),
        series_slug=slugify(found.series),
    )


@bp.get("/championships/<slug>/rounds/<int:number>")
def round_page(slug: str, number: int) -> str:
    """One round: sessions in circuit time and the viewer's, results, add-to-calendar links."""
    found = queries.round_by_number(read_session(), slug, number)
    if found is None:
        abort(404, description=f"no round {number} in championship {slug!r}")
    championship = found.championship
    return _page(
        "round.html",
        description=(
            f"{championship.name}, round {number}: {found.display_name}, "
            f"{span_text(found.start_date, found.end_date)}. Sessions in your time."
        ),
        round=found,
        championship=championship,
        status=_statuses(list(championship.rounds))[found.id],
        panel=_calendar_panel(championship.name, calendar_link("championships", slug).path),
    )


@bp.get("/competitors/<slug>")
def competitor(slug: str) -> str:
    """A competitor's championships, sessions, results and news."""
    session = read_session()
    found = queries.competitor_by_slug(session, slug)
    if found is None:
        abort(404, description=f"no competitor {slug!r}")
    championships = queries.championships_of(session, found)
    rounds = [r for c in championships for r in c.rounds]
    return _page(
        "competitor.html",
        description=f"{found.name}: every session in your calendar, results and news.",
        competitor=found,
        championships=championships,
        statuses=_statuses(rounds),
        upcoming=_countdown(rounds),
        articles=queries.articles_about(
            session, [c.slug for c in championships], competitor=slug, limit=LATEST_NEWS
        ),
        panel=_calendar_panel(found.name, calendar_link("competitors", slug).path),
    )


@bp.get("/news")
def news_index() -> str:
    """Published articles, newest first, ``NEWS_PAGE_SIZE`` a page (``?page=N``)."""
    number = number_arg(request.args.get("page"), "page", 1, 1, MAX_NEWS_PAGE)
    articles, total = queries.published_articles_page(
        read_session(), NEWS_PAGE_SIZE, (number - 1) * NEWS_PAGE_SIZE
    )
    pages = max(1, -(-total // NEWS_PAGE_SIZE))
    if number > pages:
        abort(404, description=f"page: there are {pages} pages of news")
    return _page(
        "news.html",
        description="News, press releases and results from every championship on gridfeed.",
        articles=articles,
        page=number,
        pages=pages,
        news_feeds=news_links(),
        canonical_query=f"?page={number}" if number > 1 else "",
    )


@bp.get("/news/<slug>")
def article(slug: str) -> str:
    """One published article, its Markdown rendered and sanitised."""
    session = read_session()
    found = queries.article_by_slug(session, slug)
    if found is None or found.status != "published":
        abort(404, description=f"no published article {slug!r}")
    championship_names, competitor_names = queries.names_by_slug(
        session, found.championships or [], found.competitors or []
    )
    return _page(
        "article.html",
        description=found.summary or found.title,
        article=found,
        body_html=markdown_to_html(found.body_markdown),
        championship_names=championship_names,
        competitor_names=competitor_names,
    )


@bp.get("/subscribe/qr.svg")
def subscribe_qr() -> Response:
    """A QR code of one of this site's calendar URLs (and nothing else), as SVG."""
    url = request.args.get("url", "")
    parts = urlsplit(url)
    site = urlsplit(base_url())
    if (
        (parts.scheme, parts.netloc) != (site.scheme, site.netloc)
        or not parts.path.endswith(".ics")
        or len(url) > 2000
    ):
        abort(400, description="url: one of this site's calendar (.ics) addresses")
    response = Response(qr_svg(url), content_type="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.app_template_filter("linked_names")
def linked_names(names: dict[str, str], endpoint: str) -> Markup:
    """Links to pages named by slug, "A, B" (used under an article's "About")."""
    return Markup(", ").join(
        Markup('<a href="{}">{}</a>').format(url_for(endpoint, slug=slug), escape(name))
        for slug, name in names.items()
    )


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The icon at the address browsers and link previews ask for without a <link>."""
    return current_app.send_static_file("favicon.ico")


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: 200 when a write can commit and every feed has been published once; 503
    with Retry-After while feeds are being published (first start, deploy) or when the
    storage refuses writes (full, read-only, away). ``/healthz`` is liveness."""
    try:
        check_writes_commit()
        _, complete = publish_version(read_session())
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc.__class__.__name__  # never the parameters
        current_app.logger.warning("not ready: a write cannot commit: %s", reason)
        return _not_ready("not ready: the storage does not accept writes\n")
    if not complete:
        return _not_ready("not ready: publishing: feeds are not published yet\n")
    return Response("ready\n", content_type="text/plain; charset=utf-8")


def _not_ready(text: str) -> Response:
    response = Response(text, status=503, content_type="text/plain; charset=utf-8")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: 200 with the data version and the publication counter when the database
    answers reads; 503 otherwise."""
    session = read_session()
    try:
        ping(session)
        version = data_version(session)
        published, _ = publish_version(session)
    except SQLAlchemyError:
        abort(503, description="database unavailable")
    return Response(
        f"ok data_version={version} published={published}\n",
        content_type="text/plain; charset=utf-8",
    )
