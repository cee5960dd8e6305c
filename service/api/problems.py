"""RFC 9457 problem details: the one shape of every API error."""

from __future__ import annotations

from flask import Response, jsonify


def problem(status: int, title: str, detail: str, **extra: object) -> Response:
    """An ``application/problem+json`` response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response
