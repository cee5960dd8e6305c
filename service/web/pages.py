"""HTML pages for people: the home page, plus the health check."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template
from sqlalchemy.exc import SQLAlchemyError

from ..domain import queries
from ..domain.timesheet import slugify
from ..domain.timing import describe_local, session_time
from ..domain.wording import result_line_text
from ..news.entries import results_table
from ..news.markup import markdown_to_html
from ..publish.stored import publish_version
from ..store.data_version import data_version
from ..store.engine import check_writes_commit, ping, read_session
from .feed_links import feed_links
from .http_cache import RETRY_AFTER_SECONDS

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """Championships with their rounds, competitors, and every feed URL."""
    session = read_session()
    championships = queries.championships_with_rounds(session)
    competitors = queries.all_competitors(session)
    return render_template(
        "home.html",
        championships=championships,
        competitors=competitors,
        feed_links=feed_links,
    )


def _page(template: str, **context: object) -> str:
    return render_template(
        template,
        feed_links=feed_links,
        session_time=session_time,
        describe_local=describe_local,
        results_table=results_table,
        result_line_text=result_line_text,
        **context,
    )


@bp.get("/championships/<slug>")
def championship(slug: str) -> str:
    """A championship's calendar, entries and results."""
    session = read_session()
    found = queries.championship_by_slug(session, slug)
    if found is None:
        abort(404, description=f"no championship {slug!r}")
    return _page(
        "championship.html",
        championship=found,
        next_season=queries.next_season(session, found),
        series_slug=slugify(found.series),
    )


@bp.get("/championships/<slug>/rounds/<int:number>")
def round_page(slug: str, number: int) -> str:
    """One round: sessions in local and UTC time, with results tables."""
    found = queries.round_by_number(read_session(), slug, number)
    if found is None:
        abort(404, description=f"no round {number} in championship {slug!r}")
    return _page("round.html", round=found, championship=found.championship)


@bp.get("/competitors/<slug>")
def competitor(slug: str) -> str:
    """A competitor's championships, sessions and results."""
    session = read_session()
    found = queries.competitor_by_slug(session, slug)
    if found is None:
        abort(404, description=f"no competitor {slug!r}")
    return _page(
        "competitor.html", competitor=found, championships=queries.championships_of(session, found)
    )


@bp.get("/news/<slug>")
def article(slug: str) -> str:
    """One published article, its Markdown rendered and sanitised."""
    found = queries.article_by_slug(read_session(), slug)
    if found is None or found.status != "published":
        abort(404, description=f"no published article {slug!r}")
    return _page("article.html", article=found, body_html=markdown_to_html(found.body_markdown))


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
