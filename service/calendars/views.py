"""The iCal feed URLs. Thin: parse the options, then serve the published bytes.

These URLs are permanent (calendar apps keep them for years):
``/calendar.ics``, ``/championships/<slug>/calendar.ics``, ``/competitors/<slug>/calendar.ics``
and ``/championships/<slug>/rounds/<number>.ics``.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from werkzeug.datastructures import MultiDict

from ..publish.feeds import CALENDAR, FeedSpec
from ..web.http_cache import serve_feed
from ..web.params import number_arg
from .facts import SELECTABLE_KINDS, CalendarOptions

bp = Blueprint("calendars", __name__)
MAX_ALARMS = 5
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


@bp.get("/series/<series_slug>/calendar.ics")
def series(series_slug: str) -> Response:
    """A series' current and next season in one calendar: subscribe once, keep every season.

    The current season is the latest one that has begun by this calendar year (else the
    earliest one published); the next is the season after it, once it is published.
    """
    options = parse_options(request.args)
    return serve_feed(FeedSpec(CALENDAR, "series", series_slug, options=options))
