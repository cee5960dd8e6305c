"""The public read API under /api/v1: no token, CORS *, ETags and 304s, stable paging."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from flask_smorest import Blueprint, abort

from ..domain import queries
from ..domain.models import Competitor, Entry, Session
from ..domain.timing import session_time
from ..representations import (
    article_dict,
    championship_dict,
    circuit_dict,
    competitor_dict,
    entry_dict,
    results_dict,
    round_dict,
    session_dict,
    team_dict,
)
from ..store.engine import read_session
from .responses import json_response as respond
from .responses import page_response, paginate
from .schemas import (
    ArticleOut,
    ArticlePage,
    ArticleQuery,
    ChampionshipOut,
    ChampionshipPage,
    ChampionshipQuery,
    CircuitOut,
    CircuitPage,
    CompetitorOut,
    CompetitorPage,
    EntryOut,
    EntryPage,
    PageQuery,
    ResultsOut,
    ResultsPage,
    ResultsQuery,
    RoundOut,
    RoundPage,
    SessionOut,
    SessionPage,
    SessionQuery,
    TeamOut,
    TeamPage,
)

blp = Blueprint(
    "api_read",
    __name__,
    url_prefix="/api/v1",
    description="Public reads: championships, rounds, sessions, results, competitors, articles.",
)


def _championship(slug: str) -> Any:
    found = queries.championship_by_slug(read_session(), slug)
    if found is None:
        abort(404, message=f"no championship {slug!r}")
    return found


def _round(slug: str, number: int) -> Any:
    found = next((r for r in _championship(slug).rounds if r.number == number), None)
    if found is None:
        abort(404, message=f"no round {number} in championship {slug!r}")
    return found


def _session(slug: str, number: int, session_slug: str) -> Session:
    found = next((s for s in _round(slug, number).sessions if s.slug == session_slug), None)
    if found is None:
        abort(404, message=f"no session {session_slug!r} in round {number} of {slug!r}")
    return found


def _competitor_entries(competitor: Competitor) -> list[Entry]:
    session = read_session()
    return [
        e
        for ch in queries.championships_of(session, competitor)
        for e in ch.entries
        if competitor in e.competitors
    ]


def _sessions_in_scope(championship: str | None, competitor: str | None) -> list[Session]:
    session = read_session()
    if competitor:
        found = queries.competitor_by_slug(session, competitor)
        if found is None:
            abort(404, message=f"no competitor {competitor!r}")
        championships = queries.championships_of(session, found)
    elif championship:
        championships = [_championship(championship)]
    else:
        championships = queries.all_championships(session)
    return [s for ch in championships for r in ch.rounds for s in r.sessions]


def _session_key(item: dict[str, Any]) -> list[Any]:
    return [item["local_date"] or "9999-12-31", item["championship"], item["round"], item["slug"]]


# -- championships and rounds ---------------------------------------------------------------


@blp.route("/championships", methods=["GET"])
@blp.arguments(ChampionshipQuery, location="query")
@blp.response(200, ChampionshipPage)
def list_championships(args: dict[str, Any]) -> Response:
    """List championships (newest season first)."""
    items = [
        championship_dict(c)
        for c in queries.all_championships(read_session())
        if args.get("season") in (None, c.season)
    ]
    return page_response(
        paginate(items, lambda c: [-c["season"], c["slug"]], args["limit"], args["cursor"])
    )


@blp.route("/championships/<slug>", methods=["GET"])
@blp.response(200, ChampionshipOut)
def get_championship(slug: str) -> Response:
    """One championship."""
    return respond(championship_dict(_championship(slug)))


@blp.route("/championships/<slug>/rounds", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, RoundPage)
def list_rounds(args: dict[str, Any], slug: str) -> Response:
    """The rounds of a championship, by number, with their sessions."""
    items = [round_dict(r) for r in _championship(slug).rounds]
    return page_response(paginate(items, lambda r: [r["number"]], args["limit"], args["cursor"]))


@blp.route("/championships/<slug>/rounds/<int:number>", methods=["GET"])
@blp.response(200, RoundOut)
def get_round(slug: str, number: int) -> Response:
    """One round with its sessions."""
    return respond(round_dict(_round(slug, number)))


@blp.route("/championships/<slug>/rounds/<int:number>/sessions/<session_slug>", methods=["GET"])
@blp.response(200, SessionOut)
def get_session(slug: str, number: int, session_slug: str) -> Response:
    """One session: local time, zone and UTC instant (nulls and time_tbc when unknown)."""
    return respond(session_dict(_session(slug, number, session_slug)))


@blp.route(
    "/championships/<slug>/rounds/<int:number>/sessions/<session_slug>/results", methods=["GET"]
)
@blp.response(200, ResultsOut)
def get_results(slug: str, number: int, session_slug: str) -> Response:
    """The results of one session (status "none" until published)."""
    return respond(results_dict(_session(slug, number, session_slug)))


# -- sessions and results across championships ----------------------------------------------


@blp.route("/sessions", methods=["GET"])
@blp.arguments(SessionQuery, location="query")
@blp.response(200, SessionPage)
def list_sessions(args: dict[str, Any]) -> Response:
    """Sessions by local date, filtered by championship, competitor, kind, dates, upcoming."""
    now = dt.datetime.now(dt.UTC)
    selected = []
    for s in _sessions_in_scope(args.get("championship"), args.get("competitor")):
        if args.get("kind") and s.kind != args["kind"]:
            continue
        day = s.local_date
        if args.get("from_") and (day is None or day < args["from_"]):
            continue
        if args.get("to") and (day is None or day > args["to"]):
            continue
        if args.get("upcoming"):
            st = session_time(s)
            # Untimed sessions count as upcoming until their day (or round) is over.
            last_day = day or s.round.end_date
            if (
                s.status == "cancelled"
                or (st.start_utc and st.start_utc < now)
                or (not st.timed and last_day < now.date())
            ):
                continue
        selected.append(session_dict(s))
    return page_response(paginate(selected, _session_key, args["limit"], args["cursor"]))


@blp.route("/results", methods=["GET"])
@blp.arguments(ResultsQuery, location="query")
@blp.response(200, ResultsPage)
def list_results(args: dict[str, Any]) -> Response:
    """Published (and withdrawn) results, filtered by championship, competitor and kind."""
    competitor = args.get("competitor")
    items = []
    for s in _sessions_in_scope(args.get("championship"), competitor):
        if s.results_status == "none" or (args.get("kind") and s.kind != args["kind"]):
            continue
        if competitor and not any(competitor in [c.slug for c in r.credited] for r in s.results):
            continue
        items.append(results_dict(s))
    return page_response(
        paginate(items, lambda r: _session_key(r["session"]), args["limit"], args["cursor"])
    )


# -- competitors and articles ---------------------------------------------------------------


@blp.route("/competitors", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, CompetitorPage)
def list_competitors(args: dict[str, Any]) -> Response:
    """Competitors (drivers) with their entries."""
    items = [
        competitor_dict(c, _competitor_entries(c)) for c in queries.all_competitors(read_session())
    ]
    return page_response(paginate(items, lambda c: [c["slug"]], args["limit"], args["cursor"]))


@blp.route("/competitors/<slug>", methods=["GET"])
@blp.response(200, CompetitorOut)
def get_competitor(slug: str) -> Response:
    """One competitor."""
    found = queries.competitor_by_slug(read_session(), slug)
    if found is None:
        abort(404, message=f"no competitor {slug!r}")
    return respond(competitor_dict(found, _competitor_entries(found)))


@blp.route("/circuits", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, CircuitPage)
def list_circuits(args: dict[str, Any]) -> Response:
    """Circuits, by slug."""
    items = [circuit_dict(c) for c in queries.all_circuits(read_session())]
    return page_response(paginate(items, lambda c: [c["slug"]], args["limit"], args["cursor"]))


@blp.route("/circuits/<slug>", methods=["GET"])
@blp.response(200, CircuitOut)
def get_circuit(slug: str) -> Response:
    """One circuit (a moved slug answers 301)."""
    found = queries.circuit_by_slug(read_session(), slug)
    if found is None:
        abort(404, message=f"no circuit {slug!r}")
    return respond(circuit_dict(found))


@blp.route("/teams", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, TeamPage)
def list_teams(args: dict[str, Any]) -> Response:
    """Teams, by slug."""
    items = [team_dict(t) for t in queries.all_teams(read_session())]
    return page_response(paginate(items, lambda t: [t["slug"]], args["limit"], args["cursor"]))


@blp.route("/teams/<slug>", methods=["GET"])
@blp.response(200, TeamOut)
def get_team(slug: str) -> Response:
    """One team (a moved slug answers 301)."""
    found = queries.team_by_slug(read_session(), slug)
    if found is None:
        abort(404, message=f"no team {slug!r}")
    return respond(team_dict(found))


@blp.route("/championships/<slug>/entries", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, EntryPage)
def list_entries(args: dict[str, Any], slug: str) -> Response:
    """A championship's entries (cars), by slug."""
    items = [entry_dict(e) for e in _championship(slug).entries]
    return page_response(paginate(items, lambda e: [e["slug"]], args["limit"], args["cursor"]))


@blp.route("/championships/<slug>/entries/<entry_slug>", methods=["GET"])
@blp.response(200, EntryOut)
def get_entry(slug: str, entry_slug: str) -> Response:
    """One entry."""
    found = next((e for e in _championship(slug).entries if e.slug == entry_slug), None)
    if found is None:
        abort(404, message=f"no entry {entry_slug!r} in championship {slug!r}")
    return respond(entry_dict(found))


@blp.route("/articles", methods=["GET"])
@blp.arguments(ArticleQuery, location="query")
@blp.response(200, ArticlePage)
def list_articles(args: dict[str, Any]) -> Response:
    """Published articles, newest first, filtered by championship or competitor."""
    articles = queries.published_articles(
        read_session(), args.get("championship") or None, args.get("competitor") or None
    )
    items = [article_dict(a) for a in articles]
    return page_response(
        paginate(
            items, lambda a: [-_epoch(a["published_at"]), a["slug"]], args["limit"], args["cursor"]
        )
    )


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@blp.route("/articles/<slug>", methods=["GET"])
@blp.response(200, ArticleOut)
def get_article(slug: str) -> Response:
    """One article (unpublished ones are 404 here)."""
    found = queries.article_by_slug(read_session(), slug)
    if found is None or found.status != "published":
        abort(404, message=f"no published article {slug!r}")
    return respond(article_dict(found))
