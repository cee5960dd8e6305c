"""CORS preflight for what anyone may read from a browser: feeds, calendars, OPML, embeds and
the public API reads.

A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) for a read answers 204 with
the methods, the conditional-request headers browser code sends itself, and a Max-Age.
Writes are not opened to other origins: their preflight gets 204 and ``Allow`` but no
``Access-Control-Allow-*`` header, so a browser on another site cannot send one (API clients
use a bearer token, and no response ever allows credentials).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

# Blueprints (or endpoints) whose GETs are public reads.
PUBLIC_READS = frozenset({"calendars", "news_feeds", "directory", "api_read", "embed"})
READ_METHODS = ("GET", "HEAD", "OPTIONS")
ALLOW_HEADERS = ("Accept", "If-None-Match", "If-Modified-Since", "Cache-Control")
EXPOSE_HEADERS = ("ETag", "Last-Modified", "Link", "Location")
MAX_AGE = 86400  # browsers cap this themselves (Chromium: 2 h, Firefox: 24 h)


def _public_read(path_endpoint: str) -> bool:
    blueprint = path_endpoint.rsplit(".", 1)[0] if "." in path_endpoint else path_endpoint
    return blueprint in PUBLIC_READS or path_endpoint in PUBLIC_READS


def _allowed_methods(adapter) -> list[str]:
    try:
        return sorted(adapter.allowed_methods())
    except HTTPException:
        return []


def preflight() -> Response | None:
    """Answer a CORS preflight for a public read; None for anything else."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(method="GET")
    except HTTPException:
        return None
    if not _public_read(endpoint):
        return None
    response = Response(status=204)
    response.headers["Allow"] = ", ".join(_allowed_methods(adapter))
    wanted = request.headers["Access-Control-Request-Method"].upper()
    if wanted in READ_METHODS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = ", ".join(READ_METHODS)
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOW_HEADERS)
        response.headers["Access-Control-Max-Age"] = str(MAX_AGE)
    return response


def init_app(app: Flask) -> None:
    """Answer preflights before any view (and before the API's body checks)."""
    app.before_request_funcs.setdefault(None, []).insert(0, preflight)
