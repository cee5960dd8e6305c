"""Serving rendered feeds: a per-app render cache keyed by data version, and HTTP caching.

Rendering is keyed by (feed, options, data version), so repeat requests and 304s never call a
renderer. ETags are a hash of the bytes: unchanged output keeps its ETag across data versions,
processes and restarts, which is what calendar apps and CDNs need.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Flask, Response, current_app, request

from ..store.data_version import data_version
from ..store.engine import read_session
from .fetch_stats import count_fetch
from .site import hub_url

EXTENSION = "gridfeed.render_cache"
# Retry-After on a 503 when the storage refuses a write (full, read-only, away).
RETRY_AFTER_SECONDS = 30
VERSION_EXTENSION = "gridfeed.data_version_memo"


@dataclass(frozen=True)
class Rendered:
    """Bytes ready to serve, with what HTTP caching needs."""

    body: bytes
    content_type: str
    last_modified: dt.datetime
    etag: str

    @classmethod
    def of(cls, body: bytes, content_type: str, last_modified: dt.datetime) -> Rendered:
        """Wrap rendered bytes, computing a strong ETag from their content."""
        return cls(body, content_type, last_modified, hashlib.sha256(body).hexdigest()[:32])


class RenderCache:
    """A small thread-safe LRU map. One per app, in ``app.extensions``; never global."""

    def __init__(self, max_items: int = 512) -> None:
        self.max_items = max_items
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], object]) -> object:
        """The cached value for ``key``, making (and caching) it on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: a slow render must not block other feeds
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()


def init_app(app: Flask) -> None:
    """Give the app its render cache, and leave the Date header to the server."""
    app.extensions[EXTENSION] = RenderCache()
    app.after_request(_no_date_header)


def _no_date_header(response: Response) -> Response:
    # Werkzeug's make_conditional sets Date, and gunicorn and the development server each
    # add their own: two Date headers. Every HTTP server sends Date, so the app sends none.
    response.headers.pop("Date", None)
    return response


def current_data_version() -> int:
    """The data version, read from the database at most every ``FEED_VERSION_RECHECK_SECONDS``
    (default 1) per process; a write in this process makes the next call read it again.

    Reading it is the only database work of a warm feed request and more than half its cost.
    Another process's write shows here within that second, which is nothing next to the hour
    calendar apps and caches may keep a feed (``max-age``); 0 reads it on every request.
    """
    recheck = current_app.config.get("FEED_VERSION_RECHECK_SECONDS", 1.0)
    checked_at, version = current_app.extensions.get(VERSION_EXTENSION, (None, 0))
    now = time.monotonic()
    if checked_at is None or now - checked_at >= recheck:
        version = data_version(read_session())
        current_app.extensions[VERSION_EXTENSION] = (now, version)
    return version


def forget_data_version(app: Flask) -> None:
    """Make this process read the data version again (called after every committed write)."""
    app.extensions.pop(VERSION_EXTENSION, None)


def render_cached(key: Hashable, version: int, render: Callable[[], Rendered]) -> Rendered:
    """The rendering for ``key`` at data ``version``; ``render`` runs only on a miss."""
    cache: RenderCache = current_app.extensions[EXTENSION]
    return cache.get_or_make((key, version), render)  # type: ignore[return-value]


def cacheable_response(rendered: Rendered, max_age: int) -> Response:
    """Stored bytes with ETag, Last-Modified, public Cache-Control, CORS, 304s and HEAD."""
    response = Response(rendered.body, content_type=rendered.content_type)
    response.set_etag(rendered.etag)
    response.last_modified = rendered.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link"
    response.vary.add("Accept-Encoding")
    return response.make_conditional(request)


def feed_response(
    rendered: Rendered,
    max_age: int,
    links: list[tuple[str, str]] | None = None,
    filename: str | None = None,
) -> Response:
    """A cacheable response: ETag, Last-Modified, Cache-Control, CORS, 304s and HEAD.

    Every feed names its WebSub hub in ``Link`` (WebSub discovery), next to ``self``.
    """
    response = cacheable_response(rendered, max_age)
    links = list(links or [])
    hub = hub_url()
    if hub and not any(rel == "hub" for _, rel in links):
        links.append((hub, "hub"))
    if links:
        response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    count_fetch()
    return response
