"""Who may write what, decided before a write's body is validated or its view runs.

Every write operation under /api/v1 declares a rule with ``write_rule``: the permission it
needs, the championships the object belongs to now (read from the stored record, named by the
URL) and the championships the request would give it (read from the raw body). A
``before_request`` hook authenticates the caller (401 before anything else) and hands both
sets to ``tokens.decide`` (403 before validation). A write route that declares no rule is
refused for every token, so a new endpoint cannot skip the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from sqlalchemy.orm import Session as OrmSession

from ..domain import queries
from ..notify.subscriptions import subscription_championship
from ..store.engine import get_store
from ..web.ratelimits import enforce
from .json_bodies import BodyError, check_json_body
from .tokens import AuthError, Principal, bearer_principal, decide
from .writing import PREFIX, WRITE_METHODS

Championships = Iterable[str | None]
StoredScope = Callable[[OrmSession, dict[str, Any]], Championships]
RequestedScope = Callable[[Any], Championships]
RULE_ATTRIBUTE = "gridfeed_write_rule"


def named_in_body(body: Any) -> list[str | None]:
    """The championships a JSON body names: ``championships``, ``championship`` and the
    championship part of ``rounds`` ("slug/number"). Values of the wrong type are left to
    validation, which refuses them later."""
    if not isinstance(body, dict):
        return []
    named: list[Any] = []
    if isinstance(body.get("championships"), list):
        named.extend(body["championships"])
    named.append(body.get("championship"))
    if isinstance(body.get("rounds"), list):
        named.extend(r.partition("/")[0] for r in body["rounds"] if isinstance(r, str))
    return [c for c in named if isinstance(c, str) and c]


def no_stored_object(session: OrmSession, view_args: dict[str, Any]) -> Championships:
    """Creating something: nothing stored yet."""
    return []


def tied_to_no_championship(session: OrmSession, view_args: dict[str, Any]) -> Championships:
    """Objects shared by every championship (a new championship, circuits, teams, people):
    only a token for all championships may write them."""
    return [None]


def nothing_named(body: Any) -> Championships:
    """A request whose body cannot give the object a championship."""
    return []


def championship_in_url(session: OrmSession, view_args: dict[str, Any]) -> Championships:
    """Objects under /championships/<slug>/... belong to that championship."""
    return [view_args["slug"]]


def article_championships(session: OrmSession, view_args: dict[str, Any]) -> Championships:
    """The championships the stored article is about (None: about none in particular)."""
    found = queries.article_championships(session, view_args["slug"])
    if found is None:
        return []
    return found or [None]


def webhook_championship(session: OrmSession, view_args: dict[str, Any]) -> Championships:
    """The championship a stored webhook subscription is filtered to, if any."""
    return [subscription_championship(session, view_args["public_id"])]


@dataclass(frozen=True)
class Rule:
    """What a write operation needs: a permission on the stored and requested championships."""

    permission: str
    stored: StoredScope
    requested: RequestedScope


def write_rule(
    permission: str, stored: StoredScope, requested: RequestedScope = named_in_body
) -> Callable[[Any], Any]:
    """Declare the authorization rule of a write view (put it next to ``def``, under the
    flask-smorest decorators, which copy it onto their wrappers)."""

    def declare(func: Any) -> Any:
        setattr(func, RULE_ATTRIBUTE, Rule(permission, stored, requested))
        return func

    return declare


ARTICLES = "articles"


def may_edit(permission: str, championships: Championships) -> bool:
    """Whether the current request's bearer token (if any) could write ``permission`` on an
    object of ``championships``: the same decision as for writes, for reading drafts."""
    if not request.headers.get("Authorization"):
        return False
    try:
        decide(bearer_principal(), permission, championships)
    except AuthError:
        return False
    return True


def writer() -> Principal:
    """The caller of the current write, authorized by ``authorize_write``."""
    return g.gridfeed_principal


def _raw_body() -> Any:
    too_large = (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]
    if too_large or not request.is_json:
        return None  # refused as 413 or 415 next; nothing is written
    try:
        # The bounds (depth, number size, surrogates) first: a hostile body must not reach
        # Python's json module unchecked, even here.
        check_json_body(request.get_data(cache=True))
    except BodyError:
        return None  # refused as 400 or 422 next; nothing is written
    return request.get_json(silent=True)


def authorize_write() -> None:
    """``before_request``: 401 for a write without a valid token, 403 for one outside the
    token's scope (or on a route that declares no rule), before the body is validated."""
    if request.method not in WRITE_METHODS or not request.path.startswith(PREFIX + "/"):
        return
    principal = bearer_principal()
    enforce("RATE_LIMIT_API_WRITES", "api-writes", principal.token_id)
    if request.endpoint is None:
        return  # no such route: the router answers 404 or 405
    rule: Rule | None = getattr(current_app.view_functions[request.endpoint], RULE_ATTRIBUTE, None)
    if rule is None:
        raise AuthError(
            403, "this operation declares no authorization rule, so no token may use it"
        )
    with get_store().sessions() as session:
        now = list(rule.stored(session, request.view_args or {}))
    decide(principal, rule.permission, now, rule.requested(_raw_body()))
    g.gridfeed_principal = principal
