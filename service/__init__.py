"""gridfeed: motorsport calendars, results and news as feeds. ``create_app`` builds the app."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    api,
    calendar_views,
    cli,
    db,
    errors,
    feed_views,
    http_cache,
    pages,
    tokens,
    websub,
    worker,
)
from .config import default_config


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then environment, then instance config.py or ``test_config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(default_config(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # Behind a reverse proxy: see the client's scheme and host (HTTPS for hub.secret).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    cli.init_app(app)
    tokens.init_app(app)
    errors.init_app(app)
    http_cache.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(feed_views.bp)
    app.register_blueprint(calendar_views.bp)
    app.register_blueprint(websub.bp)
    api.init_app(app)
    worker.init_app(app)
    return app
