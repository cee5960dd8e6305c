"""Absolute URLs for what the service publishes: from ``PUBLIC_BASE_URL`` or the request."""

from __future__ import annotations

from flask import current_app, request

from ..domain.site import Site


def base_url() -> str:
    """The public base URL without a trailing slash."""
    configured = current_app.config["PUBLIC_BASE_URL"]
    return (configured or request.url_root).rstrip("/")


def current_site() -> Site:
    """The feed domain, base URL and refresh interval of the current app and request."""
    config = current_app.config
    return Site(config["FEED_DOMAIN"], base_url(), config["FEED_REFRESH_MINUTES"])


def hub_url() -> str | None:
    """The WebSub hub to advertise: configured, or our own once the hub is installed."""
    configured = current_app.config["WEBSUB_HUB_URL"]
    if configured:
        return configured
    if "websub.hub" in current_app.view_functions:
        return f"{base_url()}/websub"
    return None
