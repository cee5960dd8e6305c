"""The iCal feed URLs. Thin: parse the options, load, render through the caches, serve.

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
from ..store.data_version import current_data_version
from ..store.engine import read_session
from ..web.http_cache import Rendered, feed_response, render_cached
from ..web.params import number_arg
from ..web.site import current_site
from .facts import (
    FRAGMENTS_EXTENSION,
    SELECTABLE_KINDS,
    CalendarMeta,
    CalendarOptions,
    current_and_next,
)
from .fragments import FragmentCache
from .render import last_modified, render_calendar

bp = Blueprint("calendars", __name__)
CONTENT_TYPE = "text/calendar; charset=utf-8"
MAX_ALARMS = 5
MAX_ALARM_MINUTES = 10080  # one week


@bp.record_once
def _give_app_a_fragment_cache(state: object) -> None:
    app = state.app  # type: ignore[attr-defined]
    app.extensions.setdefault(FRAGMENTS_EXTENSION, FragmentCache())


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
    # Repeated parameters rather than comma lists: commas in a URI trip some iCal parsers.
    query = [f"include={kind}" for kind in sorted(options.include or ())]
    query.extend(f"exclude={kind}" for kind in sorted(options.exclude))
    query.extend(f"alarm={minutes}" for minutes in options.alarms)
    if options.utc:
        query.append("tz=utc")
    return base_url + request.path + ("?" + "&".join(query) if query else "")


Loaded = tuple[CalendarMeta, Sequence[Round], Competitor | None]


def _serve(
    key: tuple[object, ...],
    filename: str,
    load: Callable[[str], Loaded | None],
    only_session: str | None = None,
) -> Response:
    """Render once per data version and options, and serve with HTTP caching.

    ``load(url)`` returns None for an unknown slug or round; that answer is cached with the
    data version too, so neither repeat 404s nor repeat 200s and 304s reach the database
    beyond reading the data version.
    """
    options = parse_options(request.args)
    settings = current_site()
    url = canonical_url(settings.base_url, options)
    version = current_data_version()

    def render() -> Rendered | None:
        loaded = load(url)
        if loaded is None:
            return None
        meta, rounds, competitor = loaded
        fragments = current_app.extensions[FRAGMENTS_EXTENSION]
        body = render_calendar(meta, rounds, options, settings, competitor, fragments, only_session)
        slugs = sorted({r.championship.slug for r in rounds}) if key[0] != "all" else None
        stamps = [last_modified(rounds), queries.last_change_at(read_session(), slugs)]
        changed = max((s for s in stamps if s), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
        return Rendered.of(body, CONTENT_TYPE, changed)

    rendered = render_cached(("ics", *key, options, settings), version, render)
    if rendered is None:
        abort(404, description=f"no {' '.join(str(k) for k in key)} calendar")
    return feed_response(
        rendered, max_age=settings.refresh_minutes * 60, links=[(url, "self")], filename=filename
    )


@bp.get("/calendar.ics")
def everything() -> Response:
    """Every championship's calendar."""

    def load(url: str) -> Loaded:
        championships = queries.all_championships(read_session())
        meta = CalendarMeta(
            "gridfeed: all championships",
            "Every round and session of every championship on gridfeed, in each circuit's time.",
            url,
        )
        return meta, [r for c in championships for r in c.rounds], None

    return _serve(("all",), "gridfeed.ics", load)


@bp.get("/championships/<slug>/calendar.ics")
def championship(slug: str) -> Response:
    """One championship's calendar."""

    def load(url: str) -> Loaded | None:
        found = queries.championship_by_slug(read_session(), slug)
        if found is None:
            return None
        description = f"Every round and session of the {found.name}, in each circuit's time."
        return CalendarMeta(found.name, description, url), found.rounds, None

    return _serve(("championship", slug), f"{slug}.ics", load)


@bp.get("/competitors/<slug>/calendar.ics")
def competitor(slug: str) -> Response:
    """Every session of every championship a competitor is entered in, their results first."""

    def load(url: str) -> Loaded | None:
        session = read_session()
        found = queries.competitor_by_slug(session, slug)
        if found is None:
            return None
        championships = queries.championships_of(session, found)
        description = (
            f"Every round and session of the championships {found.name} is entered in, "
            "with their results first."
        )
        rounds = [r for c in championships for r in c.rounds]
        return CalendarMeta(found.name, description, url), rounds, found

    return _serve(("competitor", slug), f"{slug}.ics", load)


@bp.get("/championships/<slug>/rounds/<int:number>.ics")
def round_calendar(slug: str, number: int) -> Response:
    """One round (a race weekend), for an "add this weekend" button."""

    def load(url: str) -> Loaded | None:
        found = queries.round_by_number(read_session(), slug, number)
        if found is None:
            return None
        name = f"{found.championship.name}: round {number}, {found.display_name}"
        meta = CalendarMeta(name, f"Sessions of {name}, in the circuit's time.", url)
        return meta, [found], None

    return _serve(("round", slug, number), f"{slug}-round-{number}.ics", load)


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

    return _serve(
        ("session", slug, number, session_slug),
        f"{slug}-round-{number}-{session_slug}.ics",
        load,
        only_session=session_slug,
    )


@bp.get("/series/<series_slug>/calendar.ics")
def series(series_slug: str) -> Response:
    """A series' current and next season in one calendar: subscribe once, keep every season.

    The current season is the latest one that has begun by this calendar year (else the
    earliest one published); the next is the season after it, once it is published.
    """
    year = dt.datetime.now(dt.UTC).year

    def load(url: str) -> Loaded | None:
        seasons = queries.series_seasons(read_session(), series_slug)
        if not seasons:
            return None
        shown = current_and_next(seasons, year)
        name = f"{seasons[-1].series}: current and next season"
        description = (
            f"Every round and session of the {seasons[-1].series}, "
            f"{' and '.join(str(c.season) for c in shown)}, in each circuit's time."
        )
        return CalendarMeta(name, description, url), [r for c in shown for r in c.rounds], None

    # The year is part of the key: the seasons shown move on at New Year with no data change.
    return _serve(("series", series_slug, year), f"{series_slug}.ics", load)
