"""Subscriber counts for publishers: ``GET /api/v1/stats/feeds`` for a token with ``stats``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort
from flask_smorest import Blueprint

from ..stats.chart import daily_totals, render_chart
from ..stats.daily import utc_today
from ..stats.queries import feed_days
from ..store.engine import read_session
from .responses import json_response
from .schemas import FeedStatsOut, FeedStatsQuery
from .tokens import authenticate
from .writing import authenticated_operation

blp = Blueprint(
    "api_stats",
    __name__,
    url_prefix="/api/v1",
    description="Subscriber counts per feed and day: need a token with `stats`.",
)
DEFAULT_DAYS = 30
MAX_DAYS = 366


def _selection(args: dict[str, Any]) -> tuple[str | None, dt.date, dt.date]:
    """The checked championship and days of a stats request (401/403/400 otherwise)."""
    championship = args["championship"]
    authenticate("stats", championship)
    end = args["to"] or utc_today()
    start = args["from_"] or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        abort(400, description=f"from: must not be after to ({end.isoformat()})")
    if (end - start).days >= MAX_DAYS:
        abort(400, description=f"from: the range may cover at most {MAX_DAYS} days")
    return championship, start, end


@blp.route("/stats/feeds", methods=["GET"])
@blp.arguments(FeedStatsQuery, location="query")
@blp.response(200, FeedStatsOut)
@authenticated_operation(blp)
def feed_stats(args: dict[str, Any]) -> Response:
    """Distinct fetchers per feed and day (UTC), newest first. No address or user agent is
    kept: people are counted by a hash whose daily salt is deleted at the end of the day;
    aggregators (Feedly, Inoreader, Google Calendar…) count as the subscribers they report."""
    championship, start, end = _selection(args)
    items = [d.as_dict() for d in feed_days(read_session(), start, end, championship)]
    body = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "championship": championship,
        "items": items,
    }
    return json_response(body, etag=False)


@blp.route("/stats/feeds.svg", methods=["GET"])
@blp.arguments(FeedStatsQuery, location="query")
@blp.response(200, description="an SVG bar chart (image/svg+xml)")
@authenticated_operation(blp)
def feed_stats_chart(args: dict[str, Any]) -> Response:
    """The same selection as a bar chart of subscribers per day, drawn on the server."""
    championship, start, end = _selection(args)
    rows = feed_days(read_session(), start, end, championship)
    scope = championship or "every feed"
    title = f"Subscribers per day, {scope}, {start.isoformat()} to {end.isoformat()}"
    body = render_chart(title, daily_totals(rows, start, end))
    response = Response(body, content_type="image/svg+xml; charset=utf-8")
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
