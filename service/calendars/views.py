"""The iCal feed URLs. Thin: parse the options, then serve the published bytes.

These URLs are permanent (calendar apps keep them for years):
``/calendar.ics``, ``/championships/<slug>/calendar.ics``, ``/competitors/<slug>/calendar.ics``
and ``/championships/<slug>/rounds/<number>.ics``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from flask import Blueprint, Response, abort, current_app, request
from werkzeug.datastructures import MultiDict

from ..domain import queries
from ..domain.models import Competitor, Round
from ..publish.feeds import CALENDAR, FeedSpec
from ..publish.rendering import Rendered
from ..store.data_version import current_data_version
from ..store.engine import read_session
from ..web.http_cache import cacheable_response, render_cached, serve_feed
from ..web.params import number_arg
from ..web.site import current_site
from .facts import FRAGMENTS_EXTENSION, SELECTABLE_KINDS, CalendarMeta, CalendarOptions
from .fragments import FragmentCache
from .render import last_modified, render_calendar

bp = Blueprint("calendars", __name__)
MAX_ALARMS = 5
CONTENT_TYPE = "text/calendar; charset=utf-8"
MAX_ALARM_MINUTES = 10080  # one week


def parse_options(args: MultiDict[str, str]) -> CalendarOptions:
    """Read ``include``, ``exclude``, ``alarm`` and ``tz``; abort 400 naming a bad one."""
    include = _kinds(args, "include")
    exclude = _kinds(args, "exclude") or frozenset()
    alarms = sorted({_alarm(raw) for raw in args.getlist("alarm")})
    if len(alarms) > MAX_ALARMS:
        abort(400, description=f"alarm: at most {MAX_ALARMS} alarms")
    zone = args.getlist("tz")
    if zone and zone != ["utc"]:
        abort(400, description="tz: the only accepted value is 'utc'")
    return CalendarOptions(include=include, exclude=exclude, alarms=tuple(alarms), utc=bool(zone))


def _kinds(args: MultiDict[str, str], name: str) -> frozenset[str] | None:
    values = args.getlist(name)
    if not values:
        return None
    kinds = {k.strip().lower() for raw in values for k in raw.split(",") if k.strip()}
    unknown = sorted(kinds - set(SELECTABLE_KINDS))
    if unknown or not kinds:
        bad = ", ".join(unknown) or "(empty)"
        abort(400, description=f"{name}: unknown kind {bad}; use {', '.join(SELECTABLE_KINDS)}")
    return frozenset(kinds)


def _alarm(raw: str) -> int:
    return number_arg(raw, "alarm", None, 0, MAX_ALARM_MINUTES)


def canonical_url(base_url: str, options: CalendarOptions) -> str:
    """This feed's public URL with its options in one canonical order (SOURCE, Link)."""
    query = options.query
    return base_url + request.path + (f"?{query}" if query else "")


Loaded = tuple[CalendarMeta, Sequence[Round], Competitor | None]


def _serve_one_session(
    key: tuple[object, ...], filename: str, load: Callable[[str], Loaded | None], session: str
) -> Response:
    """A one-event calendar rendered on request (per data version and options).

    Unlike the subscribed feeds these files are fetched once, by a person clicking "add this
    session", so they are not published ahead; the render is one round's worth of events.
    """
    options = parse_options(request.args)
    settings = current_site()
    url = canonical_url(settings.base_url, options)

    def render() -> Rendered | None:
        loaded = load(url)
        if loaded is None:
            return None
        meta, rounds, competitor = loaded
        fragments = current_app.extensions.setdefault(FRAGMENTS_EXTENSION, FragmentCache())
        body = render_calendar(
            meta, rounds, options, settings, competitor, fragments, only_session=session
        )
        stamps = [last_modified(rounds)]
        changed = max((s for s in stamps if s), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
        return Rendered.of(body, CONTENT_TYPE, changed)

    rendered = render_cached(("ics", *key, options, settings), current_data_version(), render)
    if rendered is None:
        abort(404, description=f"no {' '.join(str(k) for k in key)} calendar")
    response = cacheable_response(rendered, settings.refresh_minutes * 60)
    response.headers["Link"] = f'<{url}>; rel="self"'
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get("/calendar.ics")
def everything() -> Response:
    """Every championship's calendar."""
    return serve_feed(FeedSpec(CALENDAR, "all", options=parse_options(request.args)))


@bp.get("/championships/<slug>/calendar.ics")
def championship(slug: str) -> Response:
    """One championship's calendar."""
    return serve_feed(FeedSpec(CALENDAR, "championship", slug, options=parse_options(request.args)))


@bp.get("/competitors/<slug>/calendar.ics")
def competitor(slug: str) -> Response:
    """Every session of every championship a competitor is entered in, their results first."""
    return serve_feed(FeedSpec(CALENDAR, "competitor", slug, options=parse_options(request.args)))


@bp.get("/championships/<slug>/rounds/<int:number>.ics")
def round_calendar(slug: str, number: int) -> Response:
    """One round (a race weekend), for an "add this weekend" button."""
    options = parse_options(request.args)
    return serve_feed(FeedSpec(CALENDAR, "round", slug, number, options=options))


@bp.get("/championships/<slug>/rounds/<int:number>/sessions/<session_slug>.ics")
def session_calendar(slug: str, number: int, session_slug: str) -> Response:
    """One session as a one-event calendar ("add this session"), its UID as in every feed."""

    def load(url: str) -> Loaded | None:
        found = queries.round_by_number(read_session(), slug, number)
        dated = [s for s in found.sessions if s.slug == session_slug] if found else []
        if found is None or not dated or dated[0].local_date is None:
            return None  # unknown, or no day published yet: nothing to add
        name = f"{found.championship.name}: {dated[0].name}, {found.display_name}"
        return CalendarMeta(name, f"{name}, in the circuit's time.", url), [found], None

    return _serve_one_session(
        ("session", slug, number, session_slug),
        f"{slug}-round-{number}-{session_slug}.ics",
        load,
        session_slug,
    )


@bp.get("/series/<series_slug>/calendar.ics")
def series(series_slug: str) -> Response:
    """A series' current and next season in one calendar: subscribe once, keep every season.

    The current season is the latest one that has begun by this calendar year (else the
    earliest one published); the next is the season after it, once it is published.
    """
    options = parse_options(request.args)
    return serve_feed(FeedSpec(CALENDAR, "series", series_slug, options=options))
