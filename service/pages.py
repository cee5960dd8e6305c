"""HTML pages for people: the home page, plus the health check."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from .db import data_version, ping, read_session
from .feed_links import feed_links
from .models import Championship, Competitor, Round

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """Championships with their rounds, competitors, and every feed URL."""
    session = read_session()
    championships = session.scalars(
        select(Championship)
        .options(selectinload(Championship.rounds).selectinload(Round.circuit))
        .order_by(Championship.season.desc(), Championship.name)
    ).all()
    competitors = session.scalars(select(Competitor).order_by(Competitor.name)).all()
    return render_template(
        "home.html",
        championships=championships,
        competitors=competitors,
        feed_links=feed_links,
    )


@bp.get("/healthz")
def healthz() -> Response:
    """200 with the data version when the database answers; 503 otherwise."""
    session = read_session()
    try:
        ping(session)
        version = data_version(session)
    except SQLAlchemyError:
        abort(503, description="database unavailable")
    return Response(f"ok data_version={version}\n", content_type="text/plain; charset=utf-8")
