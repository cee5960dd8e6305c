"""gridfeed: motorsport calendars, results and news as feeds. ``create_app`` builds the app."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api, cli, errors, store
from .api import tokens
from .calendars import views as calendar_views
from .config import default_config, resolve_secret_key, resolve_trusted_hosts
from .ingest.seed import seed_once
from .news import views as news_views
from .notify import websub, worker
from .stats import daily as stats_daily
from .store.engine import get_store
from .store.migrate import startup_lock, upgrade
from .web import cors, directory, embed, http_cache, pages, params, ratelimits, security


def create_app(
    test_config: Mapping[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build the app: defaults, then environment, then instance config.py or ``test_config``.

    ``instance_path`` replaces the instance folder (the SQLite file and the generated key).
    """
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.from_mapping(default_config(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    resolve_secret_key(app.config, app.instance_path)
    resolve_trusted_hosts(app.config)
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # Behind a reverse proxy: see the client's scheme and host (HTTPS for hub.secret).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    # Before any route is added: every <int:...> in a path is bounded ASCII digits.
    params.install_converters(app)
    store.init_app(app)
    engine = get_store(app).engine
    # One process at a time migrates and seeds: others starting together wait their turn.
    if app.config["AUTO_MIGRATE"] or app.config["AUTO_SEED"]:
        with startup_lock(engine):
            if app.config["AUTO_MIGRATE"]:
                upgrade(engine)
            if app.config["AUTO_SEED"]:
                seed_once(app)
    # No pooled connection may survive into forked workers (gunicorn --preload).
    get_store(app).engine.dispose()
    cli.init_app(app)
    tokens.init_app(app)
    http_cache.init_app(app)
    stats_daily.init_app(app)
    security.init_app(app)
    ratelimits.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(directory.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(news_views.bp)
    app.register_blueprint(calendar_views.bp)
    app.register_blueprint(websub.bp)
    api.init_app(app)
    cors.init_app(app)
    errors.init_app(app)  # after the API: flask-smorest installs a handler of its own
    worker.init_app(app)
    return app
