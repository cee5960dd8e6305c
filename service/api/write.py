"""The write API under /api/v1: bearer tokens, If-Match on updates, Idempotency-Key on POST.

Every write goes through the one write path (``service.writes``) inside ``perform_write``,
so it is recorded in the change record and the feeds, calendars and reads show it on the
next request. Nothing is ever deleted: cancel, withdraw and unpublish are statuses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from ..domain import queries
from ..domain.models import Article, Championship, Circuit, Competitor, Round, Session
from ..domain.timesheet import TIMING_STRINGS, timing_values
from ..representations import (
    article_dict,
    championship_dict,
    results_dict,
    round_dict,
    session_dict,
)
from ..writes import WriteError, Writer
from .authorization import (
    article_championships,
    championship_in_url,
    named_in_body,
    no_stored_object,
    nothing_named,
    tied_to_no_championship,
    write_rule,
    writer,
)
from .schemas import (
    ArticleCreate,
    ArticleOut,
    ArticleUpdate,
    ChampionshipCreate,
    ChampionshipOut,
    ChampionshipUpdate,
    ResultsIn,
    ResultsOut,
    RoundCreate,
    RoundOut,
    RoundUpdate,
    SessionCreate,
    SessionOut,
    SessionUpdate,
)
from .tokens import decide
from .writing import (
    NotFoundError,
    already_exists,
    authenticated_operation,
    check_if_match,
    found_or_404,
    perform_write,
)

blp = Blueprint(
    "api_write",
    __name__,
    url_prefix="/api/v1",
    description="Writes: need `Authorization: Bearer <token>`. Updates need "
    "`If-Match`; POSTs take an `Idempotency-Key`.",
)
_documented = authenticated_operation(blp)


def _find(writer: Writer, model: type[Any], slug: str, what: str) -> Any:
    return found_or_404(queries.by_slug(writer.session, model, slug), what, slug)


def _round(writer: Writer, championship: Championship, number: int) -> Round:
    found = queries.round_of(writer.session, championship, number)
    if found is None:
        raise NotFoundError("round", f"no round {number} in championship {championship.slug!r}")
    return found


def _session(writer: Writer, round_: Round, slug: str) -> Session:
    found = queries.session_of(writer.session, round_, slug)
    if found is None:
        raise NotFoundError("session", f"no session {slug!r} in round {round_.number}")
    return found


def _time(value: str | None) -> dt.time | None:
    return dt.time.fromisoformat(value) if value else None


# -- championships ------------------------------------------------------------------------


def _championship_fields(current: Championship | None, args: dict[str, Any]) -> dict[str, Any]:
    names = ("name", "series", "season", "short_name", "description", "website")
    return {n: args[n] if n in args else getattr(current, n, None) for n in names}


@blp.route("/championships", methods=["POST"])
@blp.arguments(ChampionshipCreate)
@blp.response(201, ChampionshipOut)
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def create_championship(args: dict[str, Any]) -> Response:
    """Create a championship (needs an all-championships token with `calendar`)."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, str]:
        slug = args["slug"]
        if queries.by_slug(w.session, Championship, slug):
            raise already_exists("championship", slug)
        created = w.upsert_championship(slug, _championship_fields(None, args))
        body = championship_dict(created)
        return 201, body, body["url"]

    return perform_write(principal, action)


@blp.route("/championships/<slug>", methods=["PATCH"])
@blp.arguments(ChampionshipUpdate)
@blp.response(200, ChampionshipOut)
@_documented
@write_rule("calendar", championship_in_url)
def update_championship(args: dict[str, Any], slug: str) -> Response:
    """Change a championship's fields (If-Match required)."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, None]:
        current = _find(w, Championship, slug, "championship")
        check_if_match(championship_dict(current))
        updated = w.upsert_championship(slug, _championship_fields(current, args))
        return 200, championship_dict(updated), None

    return perform_write(principal, action)


# -- rounds -------------------------------------------------------------------------------


def _round_fields(w: Writer, current: Round | None, args: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "name": args["name"] if "name" in args else getattr(current, "name", None),
        "start_date": args.get("start_date") or current.start_date,
        "end_date": args.get("end_date") or current.end_date,
        "status": args.get("status") or getattr(current, "status", "scheduled"),
        "field_size": args["field_size"]
        if "field_size" in args
        else getattr(current, "field_size", None),
        "note": args["note"] if "note" in args else getattr(current, "note", None),
        "circuit": _find(w, Circuit, args["circuit"], "circuit")
        if "circuit" in args
        else current.circuit,
    }
    return fields


@blp.route("/championships/<slug>/rounds", methods=["POST"])
@blp.arguments(RoundCreate)
@blp.response(201, RoundOut)
@_documented
@write_rule("calendar", championship_in_url)
def create_round(args: dict[str, Any], slug: str) -> Response:
    """Add a round to a championship."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, str]:
        championship = _find(w, Championship, slug, "championship")
        if queries.round_of(w.session, championship, args["number"]):
            raise WriteError("number", f"round {args['number']} already exists; PATCH it")
        created = w.upsert_round(championship, args["number"], _round_fields(w, None, args))
        body = round_dict(created)
        return 201, body, body["url"]

    return perform_write(principal, action)


@blp.route("/championships/<slug>/rounds/<int:number>", methods=["PATCH"])
@blp.arguments(RoundUpdate)
@blp.response(200, RoundOut)
@_documented
@write_rule("calendar", championship_in_url)
def update_round(args: dict[str, Any], slug: str, number: int) -> Response:
    """Move, confirm, postpone or cancel a round (If-Match required)."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, None]:
        championship = _find(w, Championship, slug, "championship")
        current = _round(w, championship, number)
        check_if_match(round_dict(current))
        updated = w.upsert_round(championship, number, _round_fields(w, current, args))
        return 200, round_dict(updated), None

    return perform_write(principal, action)


# -- sessions -----------------------------------------------------------------------------

_SESSION_FIELDS = (
    "name",
    "kind",
    "local_date",
    "local_time",
    "duration_minutes",
    "time_note",
    "status",
)


def _session_fields(current: Session | None, args: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in _SESSION_FIELDS:
        if name in args:
            fields[name] = _time(args[name]) if name == "local_time" else args[name]
        else:
            fields[name] = getattr(current, name, None)
    fields["status"] = fields["status"] or "scheduled"
    if "utc_offset" in args:
        # Only when sent: without it the write path keeps an unmoved session's occurrence.
        fields["utc_offset"] = args["utc_offset"]
    if current is None:
        fields["position"] = 0
    return fields


@blp.route("/championships/<slug>/rounds/<int:number>/sessions", methods=["POST"])
@blp.arguments(SessionCreate)
@blp.response(201, SessionOut)
@_documented
@write_rule("calendar", championship_in_url)
def create_session(args: dict[str, Any], slug: str, number: int) -> Response:
    """Add a session to a round; leave out `local_time` (or the date too) while unknown."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, str]:
        round_ = _round(w, _find(w, Championship, slug, "championship"), number)
        if queries.session_of(w.session, round_, args["slug"]):
            raise WriteError("slug", f"session {args['slug']!r} already exists; PATCH it")
        fields = _session_fields(None, args)
        fields["position"] = len(round_.sessions)
        created = w.upsert_session(round_, args["slug"], fields)
        body = session_dict(created)
        return 201, body, body["url"]

    return perform_write(principal, action)


@blp.route("/championships/<slug>/rounds/<int:number>/sessions/<session_slug>", methods=["PATCH"])
@blp.arguments(SessionUpdate)
@blp.response(200, SessionOut)
@_documented
@write_rule("calendar", championship_in_url)
def update_session(args: dict[str, Any], slug: str, number: int, session_slug: str) -> Response:
    """Change a session's time or status: cancel, postpone, or reinstate with "scheduled"."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, None]:
        round_ = _round(w, _find(w, Championship, slug, "championship"), number)
        current = _session(w, round_, session_slug)
        check_if_match(session_dict(current))
        updated = w.upsert_session(round_, session_slug, _session_fields(current, args))
        return 200, session_dict(updated), None

    return perform_write(principal, action)


# -- results ------------------------------------------------------------------------------


@blp.route(
    "/championships/<slug>/rounds/<int:number>/sessions/<session_slug>/results", methods=["PUT"]
)
@blp.arguments(ResultsIn)
@blp.response(200, ResultsOut)
@_documented
@write_rule("results", championship_in_url)
def put_results(args: dict[str, Any], slug: str, number: int, session_slug: str) -> Response:
    """Publish, correct (If-Match) or withdraw (`status: withdrawn`) a session's results."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, None]:
        # The whole graph in a few queries: no query per line or per result shown back.
        championship = found_or_404(
            queries.championship_by_slug(w.session, slug), "championship", slug
        )
        session = _session(w, _round(w, championship, number), session_slug)
        if session.results_status != "none":
            check_if_match(results_dict(session))
        entries = {e.slug: e for e in championship.entries}
        lines = []
        for index, line in enumerate(args["lines"]):
            entry = entries.get(line["entry"])
            if entry is None:
                raise WriteError(
                    f"lines[{index}].entry", f"{line['entry']!r} is not entered in {slug!r}"
                )
            driver = None
            if line.get("driver"):
                driver = queries.by_slug(w.session, Competitor, line["driver"])
                if driver is None:
                    raise WriteError(f"lines[{index}].driver", f"no competitor {line['driver']!r}")
            given = {k: v for k, v in line.items() if k not in TIMING_STRINGS}
            lines.append({**given, **timing_values(line), "entry": entry, "driver": driver})
        w.set_results(session, args["status"], lines, note=args.get("note"))
        return 200, results_dict(session), None

    return perform_write(principal, action)


# -- articles -----------------------------------------------------------------------------

_ARTICLE_FIELDS = (
    "title",
    "summary",
    "author",
    "body_markdown",
    "published_at",
    "status",
    "championships",
    "rounds",
    "competitors",
    "links",
)


def _article_refs(w: Writer, fields: dict[str, Any]) -> None:
    for slug in fields.get("championships") or []:
        _find(w, Championship, slug, "championship")
    for slug in fields.get("competitors") or []:
        _find(w, Competitor, slug, "competitor")
    for ref in fields.get("rounds") or []:
        slug, _, number = ref.partition("/")
        _round(w, _find(w, Championship, slug, "championship"), int(number))


@blp.route("/articles", methods=["POST"])
@blp.arguments(ArticleCreate)
@blp.response(201, ArticleOut)
@_documented
@write_rule("articles", no_stored_object)
def create_article(args: dict[str, Any]) -> Response:
    """Publish an article (or create it unpublished with `status: unpublished`)."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, str]:
        if queries.article_by_slug(w.session, args["slug"]):
            raise WriteError("slug", f"article {args['slug']!r} already exists; PATCH it")
        fields = {name: args.get(name) for name in _ARTICLE_FIELDS}
        fields["published_at"] = fields["published_at"] or w.now
        fields["status"] = fields["status"] or "published"
        for name in ("championships", "rounds", "competitors", "links"):
            fields[name] = fields[name] or []
        _article_refs(w, fields)
        created = w.upsert_article(args["slug"], fields)
        body = article_dict(created)
        return 201, body, body["url"]

    return perform_write(principal, action)


@blp.route("/articles/<slug>", methods=["PATCH"])
@blp.arguments(ArticleUpdate)
@blp.response(200, ArticleOut)
@_documented
@write_rule("articles", article_championships)
def update_article(args: dict[str, Any], slug: str) -> Response:
    """Edit, unpublish (`status: unpublished`) or republish an article (If-Match required)."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, None]:
        current = _find(w, Article, slug, "article")
        # Decided again on the row this transaction writes, in case it moved meanwhile.
        decide(principal, "articles", current.championships or [None], named_in_body(args))
        check_if_match(article_dict(current))
        fields = {
            name: args[name] if name in args else getattr(current, name) for name in _ARTICLE_FIELDS
        }
        _article_refs(w, fields)
        updated = w.upsert_article(slug, fields)
        return 200, article_dict(updated), None

    return perform_write(principal, action)
