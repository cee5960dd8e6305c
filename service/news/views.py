"""HTTP for the news feeds: parse the query, then serve the published bytes."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from ..publish.feeds import DEFAULT_NEWS_LIMIT, NEWS, NEWS_FORMATS, FeedSpec
from ..web.http_cache import serve_feed
from ..web.params import number_arg

bp = Blueprint("news_feeds", __name__)

MAX_LIMIT = 500


def parse_limit(raw: str | None) -> int:
    """``?limit=`` as an int in 1..500 (default 50); abort 400 naming the parameter otherwise."""
    return number_arg(raw, "limit", DEFAULT_NEWS_LIMIT, 1, MAX_LIMIT)


def _serve(kind: str, slug: str | None, fmt: str) -> Response:
    if fmt not in NEWS_FORMATS:
        abort(404)
    limit = parse_limit(request.args.get("limit"))
    return serve_feed(FeedSpec(NEWS, kind, slug, fmt=fmt, limit=limit))


@bp.get("/news.<fmt>")
def all_news(fmt: str) -> Response:
    """Every article, result and schedule change."""
    return _serve("all", None, fmt)


@bp.get("/championships/<slug>/news.<fmt>")
def championship_news(slug: str, fmt: str) -> Response:
    """One championship's news."""
    return _serve("championship", slug, fmt)


@bp.get("/competitors/<slug>/news.<fmt>")
def competitor_news(slug: str, fmt: str) -> Response:
    """One competitor's news, their own results first in each results entry."""
    return _serve("competitor", slug, fmt)
