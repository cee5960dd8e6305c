"""Writes that publish a whole season under /api/v1: circuits, teams, competitors, entries,
classification sheets (CSV) and the next season.

Same rules as ``write.py``: a bearer token, If-Match on PATCH and DELETE, Idempotency-Key on
POST, and every change through the one write path. Circuits, teams and competitors belong to
no single championship, so changing them needs an all-championships `calendar` token. A slug
change (PATCH ``slug``) leaves a redirect: the old slug answers 301 to the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint

from ..domain import queries
from ..domain.models import Championship, Circuit, Competitor, Entry, Session, Team
from ..ingest.classification import SheetImport, import_sheet, read_sheet
from ..representations import (
    championship_dict,
    circuit_dict,
    competitor_dict,
    entry_dict,
    results_dict,
    team_dict,
)
from ..writes import WriteError, Writer
from .authorization import (
    championship_in_url,
    nothing_named,
    tied_to_no_championship,
    write_rule,
    writer,
)
from .problems import problem
from .responses import json_response
from .schemas import (
    ChampionshipCopy,
    ChampionshipOut,
    CircuitCreate,
    CircuitOut,
    CircuitUpdate,
    CompetitorCreate,
    CompetitorOut,
    CompetitorUpdate,
    EntryCreate,
    EntryOut,
    EntryUpdate,
    ResultsImportOut,
    ResultsImportQuery,
    TeamCreate,
    TeamOut,
    TeamUpdate,
)
from .tokens import decide
from .writing import (
    already_exists,
    authenticated_operation,
    check_if_match,
    found_or_404,
    perform_write,
)

blp = Blueprint(
    "api_seasons",
    __name__,
    url_prefix="/api/v1",
    description="Publishing a season: circuits, teams, competitors, entries, results sheets "
    "(CSV) and the next season. Needs `Authorization: Bearer <token>`.",
)
_documented = authenticated_operation(blp)


def _championship(w: Writer, slug: str) -> Championship:
    return found_or_404(queries.championship_by_slug(w.session, slug), "championship", slug)


def _entry(w: Writer, championship: Championship, slug: str) -> Entry:
    return found_or_404(queries.entry_of(w.session, championship, slug), "entry", slug)


def _competitor_entries(w: Writer, competitor: Competitor) -> list[Entry]:
    return [
        e
        for ch in queries.championships_of(w.session, competitor)
        for e in ch.entries
        if competitor in e.competitors
    ]


def _merged(current: Any, args: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Model fields from request ``args`` (API name → model name), current values kept."""
    return {
        model: args[api] if api in args else getattr(current, model, None)
        for api, model in names.items()
    }


# -- circuits, teams and competitors --------------------------------------------------------

_CIRCUIT = {
    "name": "name",
    "locality": "locality",
    "country": "country_code",
    "timezone": "timezone",
    "latitude": "latitude",
    "longitude": "longitude",
    "length_m": "length_m",
}
_TEAM = {"name": "name", "country": "country_code"}
_COMPETITOR = {"name": "name", "country": "country_code"}


class Registry:
    """How the write views reach one kind of registry object (circuit, team, competitor)."""

    def __init__(
        self,
        entity: str,
        model: type[Any],
        names: dict[str, str],
        find: Callable[[Any, str], Any],
        upsert: Callable[[Writer], Callable[[str, dict[str, Any]], Any]],
        show: Callable[[Writer, Any], dict[str, Any]],
    ) -> None:
        self.entity, self.model, self.names = entity, model, names
        self.find, self.upsert, self.show = find, upsert, show

    def create(self, args: dict[str, Any]) -> Response:
        """Create the object named by ``args['slug']``."""
        principal = writer()

        def action(w: Writer) -> tuple[int, Any, str]:
            if self.find(w.session, args["slug"]) is not None:
                raise already_exists(self.entity, args["slug"])
            created = self.upsert(w)(args["slug"], _merged(None, args, self.names))
            body = self.show(w, created)
            return 201, body, body["url"]

        return perform_write(principal, action)

    def update(self, args: dict[str, Any], slug: str) -> Response:
        """Change fields (If-Match); a new ``slug`` leaves a redirect from the old one."""
        principal = writer()

        def action(w: Writer) -> tuple[int, Any, None]:
            current = found_or_404(self.find(w.session, slug), self.entity, slug)
            check_if_match(self.show(w, current))
            updated = self.upsert(w)(slug, _merged(current, args, self.names))
            if "slug" in args:
                w.change_slug(self.entity, updated, args["slug"])
            return 200, self.show(w, updated), None

        return perform_write(principal, action)

    def delete(self, slug: str) -> Response:
        """Delete (If-Match) when nothing refers to the object; 409 naming what does."""
        principal = writer()

        def action(w: Writer) -> tuple[int, Any, None]:
            current = found_or_404(self.find(w.session, slug), self.entity, slug)
            check_if_match(self.show(w, current))
            w.delete(self.entity, current)
            return 204, None, None

        return perform_write(principal, action)


CIRCUITS = Registry(
    "circuit",
    Circuit,
    _CIRCUIT,
    queries.circuit_by_slug,
    lambda w: w.upsert_circuit,
    lambda w, c: circuit_dict(c),
)
TEAMS = Registry(
    "team", Team, _TEAM, queries.team_by_slug, lambda w: w.upsert_team, lambda w, t: team_dict(t)
)
COMPETITORS = Registry(
    "competitor",
    Competitor,
    _COMPETITOR,
    queries.competitor_by_slug,
    lambda w: w.upsert_competitor,
    lambda w, c: competitor_dict(c, _competitor_entries(w, c)),
)


@blp.route("/circuits", methods=["POST"])
@blp.arguments(CircuitCreate)
@blp.response(201, CircuitOut)
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def create_circuit(args: dict[str, Any]) -> Response:
    """Add a circuit (its `timezone` must be an IANA zone such as `Europe/Paris`)."""
    return CIRCUITS.create(args)


@blp.route("/circuits/<slug>", methods=["PATCH"])
@blp.arguments(CircuitUpdate)
@blp.response(200, CircuitOut)
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def update_circuit(args: dict[str, Any], slug: str) -> Response:
    """Change a circuit (If-Match); a zone change moves (and re-sequences) its sessions."""
    return CIRCUITS.update(args, slug)


@blp.route("/circuits/<slug>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(409, description="application/problem+json: rounds still use the circuit")
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def delete_circuit(slug: str) -> Response:
    """Delete a circuit no round uses (If-Match)."""
    return CIRCUITS.delete(slug)


@blp.route("/teams", methods=["POST"])
@blp.arguments(TeamCreate)
@blp.response(201, TeamOut)
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def create_team(args: dict[str, Any]) -> Response:
    """Add a team."""
    return TEAMS.create(args)


@blp.route("/teams/<slug>", methods=["PATCH"])
@blp.arguments(TeamUpdate)
@blp.response(200, TeamOut)
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def update_team(args: dict[str, Any], slug: str) -> Response:
    """Rename a team or change its slug (If-Match)."""
    return TEAMS.update(args, slug)


@blp.route("/teams/<slug>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(409, description="application/problem+json: entries still name the team")
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def delete_team(slug: str) -> Response:
    """Delete a team no entry names (If-Match)."""
    return TEAMS.delete(slug)


@blp.route("/competitors", methods=["POST"])
@blp.arguments(CompetitorCreate)
@blp.response(201, CompetitorOut)
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def create_competitor(args: dict[str, Any]) -> Response:
    """Add a competitor (driver): name, nationality (`country`) and slug."""
    return COMPETITORS.create(args)


@blp.route("/competitors/<slug>", methods=["PATCH"])
@blp.arguments(CompetitorUpdate)
@blp.response(200, CompetitorOut)
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def update_competitor(args: dict[str, Any], slug: str) -> Response:
    """Rename a competitor (the slug stays) or change the slug (the old one redirects)."""
    return COMPETITORS.update(args, slug)


@blp.route("/competitors/<slug>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(409, description="application/problem+json: entries, results or articles")
@_documented
@write_rule("calendar", tied_to_no_championship, nothing_named)
def delete_competitor(slug: str) -> Response:
    """Delete a competitor no entry, result or article refers to (If-Match)."""
    return COMPETITORS.delete(slug)


# -- entries --------------------------------------------------------------------------------


def _entry_fields(w: Writer, current: Entry | None, args: dict[str, Any]) -> dict[str, Any]:
    fields = _merged(current, args, {"car": "car", "number": "number", "class_": "car_class"})
    if "team" in args:
        team = args["team"]
        found = queries.team_by_slug(w.session, team) if team else None
        if team and found is None:
            raise WriteError("team", f"no team {team!r}; POST it first")
        fields["team"] = found
    else:
        fields["team"] = current.team if current else None
    return fields


def _drivers(w: Writer, current: Entry | None, args: dict[str, Any]) -> list[Competitor]:
    if "drivers" not in args:
        return current.competitors if current else []
    drivers = []
    for index, slug in enumerate(args["drivers"]):
        found = queries.competitor_by_slug(w.session, slug)
        if found is None:
            raise WriteError(f"drivers[{index}]", f"no competitor {slug!r}; POST it first")
        drivers.append(found)
    if len({d.slug for d in drivers}) != len(drivers):
        raise WriteError("drivers", "a driver is listed twice")
    return drivers


@blp.route("/championships/<slug>/entries", methods=["POST"])
@blp.arguments(EntryCreate)
@blp.response(201, EntryOut)
@_documented
@write_rule("calendar", championship_in_url)
def create_entry(args: dict[str, Any], slug: str) -> Response:
    """Enter a car: team, car, number, class and its drivers (competitor slugs)."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, str]:
        championship = _championship(w, slug)
        if queries.entry_of(w.session, championship, args["slug"]) is not None:
            raise already_exists("entry", args["slug"])
        fields, drivers = _entry_fields(w, None, args), _drivers(w, None, args)
        body = entry_dict(w.upsert_entry(championship, args["slug"], fields, drivers))
        return 201, body, body["url"]

    return perform_write(principal, action)


@blp.route("/championships/<slug>/entries/<entry_slug>", methods=["PATCH"])
@blp.arguments(EntryUpdate)
@blp.response(200, EntryOut)
@_documented
@write_rule("calendar", championship_in_url)
def update_entry(args: dict[str, Any], slug: str, entry_slug: str) -> Response:
    """Change an entry's team, car, number, class or drivers (If-Match)."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, None]:
        championship = _championship(w, slug)
        current = _entry(w, championship, entry_slug)
        check_if_match(entry_dict(current))
        fields, drivers = _entry_fields(w, current, args), _drivers(w, current, args)
        return 200, entry_dict(w.upsert_entry(championship, entry_slug, fields, drivers)), None

    return perform_write(principal, action)


@blp.route("/championships/<slug>/entries/<entry_slug>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(409, description="application/problem+json: results still list the entry")
@_documented
@write_rule("calendar", championship_in_url)
def delete_entry(slug: str, entry_slug: str) -> Response:
    """Withdraw an entry no result lists (If-Match)."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, None]:
        championship = _championship(w, slug)
        current = _entry(w, championship, entry_slug)
        check_if_match(entry_dict(current))
        w.delete("entry", current)
        return 204, None, None

    return perform_write(principal, action)


# -- results sheets -------------------------------------------------------------------------


class DryRun(Exception):
    """Raised inside a write to roll it back after a dry run computed its answer."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("dry run")
        self.body = body


def _import_body(session: Session, report: SheetImport, dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "changed": report.changed,
        "diff": report.diff,
        "created_entries": report.created,
        "results": results_dict(session),
    }


@blp.route(
    "/championships/<slug>/rounds/<int:number>/sessions/<session_slug>/results",
    methods=["POST"],
)
@blp.arguments(ResultsImportQuery, location="query")
@blp.doc(
    requestBody={
        "required": True,
        "description": "A classification sheet: CSV with a header row (POS, NO, DRIVERS, TEAM, "
        "LAPS, TOTAL TIME, GAP, BEST LAP, STATUS, CLASS and aliases; see the README), any "
        "delimiter, UTF-8 (with or without BOM) or Windows-1252.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
)
@blp.response(200, ResultsImportOut)
@_documented
@write_rule("results", championship_in_url)
def import_results(args: dict[str, Any], slug: str, number: int, session_slug: str) -> Response:
    """Publish a session's results from a timing sheet; nothing is written unless every line
    matches an entry (or `create_entries=true`). Changing published results needs If-Match;
    importing the same sheet again writes nothing."""
    principal = writer()
    if args["create_entries"]:
        decide(principal, "calendar", [slug])  # creating entries is a calendar change
    if request.mimetype != "text/csv":
        return problem(415, "Unsupported Media Type", "send the sheet as text/csv")
    lines = read_sheet(request.get_data())

    def action(w: Writer) -> tuple[int, Any, None]:
        championship = _championship(w, slug)
        round_ = found_or_404(
            next((r for r in championship.rounds if r.number == number), None), "round", str(number)
        )
        session = found_or_404(
            next((s for s in round_.sessions if s.slug == session_slug), None),
            "session",
            session_slug,
        )
        published = results_dict(session)
        report = import_sheet(w, session, lines, create_entries=args["create_entries"])
        body = _import_body(session, report, args["dry_run"])
        if args["dry_run"]:
            raise DryRun(body)
        if report.changed and published["status"] != "none":
            check_if_match(published)
        return 200, body, None

    try:
        return perform_write(principal, action)
    except DryRun as done:
        return json_response(done.body, etag=False)


# -- next season ----------------------------------------------------------------------------


def copy_target(body: Any) -> list[str | None]:
    """The championship a copy would create (its ``slug``): the token must cover it too."""
    slug = body.get("slug") if isinstance(body, dict) else None
    return [slug] if isinstance(slug, str) and slug else []


@blp.route("/championships/<slug>/copy", methods=["POST"])
@blp.arguments(ChampionshipCopy)
@blp.response(201, ChampionshipOut)
@_documented
@write_rule("calendar", championship_in_url, copy_target)
def copy_championship(args: dict[str, Any], slug: str) -> Response:
    """Start the next season: a new championship with this one's entries and rounds
    (provisional, sessions without times), without results."""
    principal = writer()

    def action(w: Writer) -> tuple[int, Any, str]:
        source = _championship(w, slug)
        created = w.copy_championship(source, args["slug"], args["season"], args.get("name"))
        body = championship_dict(created)
        return 201, body, body["url"]

    return perform_write(principal, action)
