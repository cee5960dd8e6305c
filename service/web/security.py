"""Security headers, set in one place for every response (pages, error pages, feeds, API).

A few lines rather than flask-talisman: we need four fixed headers chosen by the response's
type plus a per-view framing opt-out, and talisman's defaults (HTTPS redirects, HSTS, session
cookie flags) belong to the TLS front in our deployments, so most of it would be switched off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request

# No inline script or style anywhere (pages are server-rendered, CSS is a file); images may
# come from article bodies on other HTTPS sites.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)
EMBEDDABLE_ATTRIBUTE = "gridfeed_embeddable"
View = TypeVar("View", bound=Callable[..., Any])


def embeddable(view: View) -> View:
    """Mark a view as meant to be framed by other sites (``frame-ancestors *``)."""
    setattr(view, EMBEDDABLE_ATTRIBUTE, True)
    return view


def _is_embeddable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, EMBEDDABLE_ATTRIBUTE, False))


def add_security_headers(response: Response) -> Response:
    """``after_request``: nosniff and Referrer-Policy everywhere; the CSP on HTML."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if response.mimetype == "text/html":
        ancestors = "*" if _is_embeddable() else "'none'"
        response.headers["Content-Security-Policy"] = (
            f"{CONTENT_SECURITY_POLICY}; frame-ancestors {ancestors}"
        )
    return response


def init_app(app: Flask) -> None:
    """Register the headers for every response of ``app``."""
    app.after_request(add_security_headers)
