"""The JSON API at /api/v1: public reads, token-protected writes, webhook subscriptions.

This module wires the flask-smorest ``Api`` (OpenAPI 3.1 at /api/v1/openapi.json); the
blueprints and helpers live in the sibling modules."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from ..notify.worker import HOUSEKEEPING
from . import read, seasons, stats, webhooks, write
from .authorization import authorize_write
from .docs import EXTENSION, docs_page
from .writing import PREFIX, purge_idempotency_records, require_json_body


def init_app(app: Flask) -> None:
    """Create the app's Api (OpenAPI 3.1 at /api/v1/openapi.json) and register the API."""
    app.config.setdefault("API_TITLE", "gridfeed API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Championship calendars, results and news. Reads are public; "
                "writes need a bearer token (flask tokens create)."
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = Api(app)
    app.extensions[EXTENSION] = api
    api.register_blueprint(read.blp)
    api.register_blueprint(write.blp)
    api.register_blueprint(seasons.blp)
    api.register_blueprint(webhooks.blp)
    api.register_blueprint(stats.blp)
    # 401 before anything else, 403 before the body is looked at; then the body's type.
    app.before_request(authorize_write)
    app.before_request(require_json_body)
    app.add_url_rule(f"{PREFIX}/docs", "api_docs", docs_page)
    app.extensions.setdefault(HOUSEKEEPING, []).append(purge_idempotency_records)
