"""Errors as data: one handler per format (problem+json for the API, plain text for feeds,
HTML for pages), so no client ever sees a traceback or a 500 for bad input."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

FEED_SUFFIXES = (".ics", ".rss", ".atom", ".json", ".xml")


def wants_problem_json() -> bool:
    """API paths answer errors as RFC 9457 problem details."""
    return request.path.startswith("/api/")


def wants_plain_text() -> bool:
    """Feed URLs answer errors with one plain-text line that calendar and feed apps show."""
    return request.path.endswith(FEED_SUFFIXES) or request.path in {"/healthz", "/websub"}


def problem(status: int, title: str, detail: str, **extra: object) -> Response:
    """An ``application/problem+json`` response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


def _handle_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    detail = exc.description or exc.name
    if wants_problem_json():
        response = problem(status, exc.name, detail)
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


def _handle_unexpected(exc: Exception) -> Response:
    # Logged with its traceback for operators; clients get a plain reason, never the trace.
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _handle_http(InternalServerError("An unexpected error occurred; it has been logged."))


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
