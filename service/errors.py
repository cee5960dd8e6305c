"""Errors as data, in one place: problem+json for the API, one plain-text line for feeds and
calendars, HTML for pages, chosen by route, so no client ever sees a traceback or a 500 for
bad input."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from .api.problems import problem
from .api.tokens import AuthError
from .api.writing import NotFoundError
from .domain.queries import redirect_target
from .ingest.classification import SheetError
from .store.engine import read_session
from .web.http_cache import RETRY_AFTER_SECONDS
from .web.site import base_url
from .writes import InUseError, WriteError

# Failures of the storage, not of the request: answered 503 with Retry-After.
STORAGE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)
FEED_SUFFIXES = (".ics", ".rss", ".atom", ".json", ".xml")


def wants_problem_json() -> bool:
    """API paths answer errors as RFC 9457 problem details."""
    return request.path.startswith("/api/")


def wants_plain_text() -> bool:
    """Feed URLs answer errors with one plain-text line that calendar and feed apps show."""
    return request.path.endswith(FEED_SUFFIXES) or request.path in {
        "/healthz",
        "/readyz",
        "/websub",
    }


def _flatten(messages: Any, path: str = "") -> list[dict[str, str]]:
    """webargs/marshmallow messages as a list of {field, message}."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            if key in {"json", "query", "querystring", "headers"} and not path:
                out.extend(_flatten(value, ""))
                continue
            name = (
                f"{path}[{key}]"
                if isinstance(key, int)
                else (f"{path}.{key}" if path else str(key))
            )
            out.extend(_flatten(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": path or "(body)", "message": m} for m in messages]
    if isinstance(messages, list):
        return [e for i, m in enumerate(messages) for e in _flatten(m, f"{path}[{i}]")]
    return [{"field": path or "(body)", "message": str(messages)}]


def _api_problem(exc: HTTPException) -> Response:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages:
        errors = _flatten(messages)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        # A bad query parameter is a bad request (400); a bad body is unprocessable (422).
        in_query = isinstance(messages, dict) and set(messages) <= {"query", "querystring"}
        status = 400 if in_query else exc.code or 400
        title = "Bad Request" if in_query else exc.name
        response = problem(status, title, detail, errors=errors)
    else:
        response = problem(
            exc.code or 500, exc.name, data.get("message") or exc.description or exc.name
        )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _handle_auth(exc: AuthError) -> Response:
    title = "Unauthorized" if exc.status == 401 else "Forbidden"
    response = problem(exc.status, title, exc.reason)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridfeed"'
    return response


def _handle_write_error(exc: WriteError) -> Response:
    return problem(
        422,
        "Unprocessable Content",
        f"{exc.field}: {exc.message}",
        errors=[{"field": exc.field, "message": exc.message}],
    )


def _handle_sheet_error(exc: SheetError) -> Response:
    return problem(
        422,
        "Unprocessable Content",
        "; ".join(f"{f}: {m}" for f, m in exc.problems),
        errors=exc.errors,
    )


def _handle_in_use(exc: InUseError) -> Response:
    return problem(
        409,
        "Conflict",
        f"{exc.message}; remove those references first",
        errors=[{"field": exc.what, "message": f"referred to by {ref}"} for ref in exc.refs],
    )


# The URL prefixes whose first slug names an entity that can change its slug.
REDIRECTABLE = {
    "competitors": "competitor",
    "circuits": "circuit",
    "teams": "team",
}


def moved_to() -> str | None:
    """For a 404 on an old slug that moved, the same URL with the new slug; else None."""
    if request.method not in {"GET", "HEAD"} or not request.view_args:
        return None
    slug = request.view_args.get("slug")
    parts = request.path.removeprefix("/api/v1").split("/")
    if not isinstance(slug, str) or len(parts) < 3 or parts[2] != slug:
        return None
    entity = REDIRECTABLE.get(parts[1])
    target = redirect_target(read_session(), entity, slug) if entity else None
    if target is None:
        return None
    prefix = "/api/v1" if request.path.startswith("/api/v1/") else ""
    parts[2] = target
    query = request.query_string.decode("latin-1")
    # Absolute, from the public base URL: some calendar apps mishandle a relative Location.
    return base_url() + prefix + "/".join(parts) + (f"?{query}" if query else "")


def _handle_not_found(exc: NotFoundError) -> Response:
    return problem(404, "Not Found", exc.message)


def _handle_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 404 and (location := moved_to()):
        # Old subscriptions keep working: an old slug answers 301 to the new one for good.
        response = Response(
            f"Moved to {location}\n", status=301, content_type="text/plain; charset=utf-8"
        )
        response.headers["Location"] = location
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    detail = exc.description or exc.name
    if wants_problem_json():
        response = _api_problem(exc)
    elif wants_plain_text():
        response = Response(
            f"{status} {exc.name}: {detail}\n",
            status=status,
            content_type="text/plain; charset=utf-8",
        )
    else:
        response = Response(
            render_template("error.html", status=status, title=exc.name, detail=detail),
            status=status,
            content_type="text/html; charset=utf-8",
        )
    if status == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _handle_storage(exc: SQLAlchemyError) -> Response:
    # The database is full, read-only, locked past the busy timeout or away: the request was
    # fine and nothing was half-written (the transaction rolled back). Say when to come back.
    # The driver's message only ("database or disk is full"): the SQLAlchemy message would
    # add the statement's parameters, which may hold secrets.
    reason = getattr(exc, "orig", None) or exc.__class__.__name__
    current_app.logger.error("storage failure on %s %s: %s", request.method, request.path, reason)
    response = _handle_http(
        ServiceUnavailable(
            "the storage cannot take this request now (full, read-only or unreachable); "
            "nothing was changed, try again later"
        )
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _handle_unexpected(exc: Exception) -> Response:
    # Logged with its traceback for operators; clients get a plain reason, never the trace.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _handle_http(InternalServerError("An unexpected error occurred; it has been logged."))


def init_app(app: Flask) -> None:
    """Register the error handlers (after the API, whose library installs its own)."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(AuthError, _handle_auth)
    app.register_error_handler(WriteError, _handle_write_error)
    app.register_error_handler(SheetError, _handle_sheet_error)
    app.register_error_handler(InUseError, _handle_in_use)
    app.register_error_handler(NotFoundError, _handle_not_found)
    for storage_error in STORAGE_ERRORS:
        app.register_error_handler(storage_error, _handle_storage)
    app.register_error_handler(Exception, _handle_unexpected)
