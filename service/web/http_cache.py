"""Serving published feeds: stored bytes by key, with HTTP caching, gzip and CDN headers.

A feed request reads the stored bytes under its canonical key (``publish.serving``) and never
loads the domain model or renders.

ETags are a hash of the bytes: unchanged output keeps its ETag across versions, processes and
restarts, which is what calendar apps and CDNs need.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, Response, abort, current_app, request
from werkzeug.exceptions import ServiceUnavailable

from ..publish import stored
from ..publish.feeds import FeedSpec
from ..publish.files import path_of, relative_name, write_feed_files
from ..publish.rendering import Rendered
from ..publish.serving import NotPublishedYet, PublishedMemo, memo_of, published_feed
from .fetch_stats import count_fetch
from .site import base_url, hub_url

# Pages that are rendered on request (OPML lists, one-session calendars), per data version.
EXTENSION = "gridfeed.render_cache"


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


# Retry-After on a 503 when the storage refuses a write (full, read-only, away).
RETRY_AFTER_SECONDS = 30
# Retry-After on a 503 for a default feed before the first complete publication.
PUBLISHING_RETRY_AFTER_SECONDS = 10


def init_app(app: Flask) -> None:
    """Give the app its small render cache, and leave the Date header to the server."""
    app.extensions[EXTENSION] = RenderCache()
    app.after_request(_no_date_header)


def _no_date_header(response: Response) -> Response:
    # Werkzeug's make_conditional sets Date, and gunicorn and the development server each
    # add their own: two Date headers. Every HTTP server sends Date, so the app sends none.
    response.headers.pop("Date", None)
    return response


def feed_key(spec: FeedSpec) -> str:
    """The stored key of ``spec`` as this request names it (configured or request origin)."""
    return spec.key(base_url())


def serve_feed(spec: FeedSpec) -> Response:
    """Answer a feed request from the stored bytes (404 when the feed does not exist)."""
    key = feed_key(spec)
    try:
        feed = published_feed(key)
    except NotPublishedYet:
        # First start or a fresh database: the release step or the worker is publishing.
        raise ServiceUnavailable(
            "feeds are being published for the first time; try again shortly",
            retry_after=PUBLISHING_RETRY_AFTER_SECONDS,
        ) from None
    if feed is None:
        abort(404, description=f"no such feed: {request.path}")
    return feed_response(feed, links=[(key, "self")])


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


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


def _cache_control(max_age: int) -> str:
    config = current_app.config
    return (
        f"public, max-age={max_age}, "
        f"stale-while-revalidate={config['CDN_STALE_WHILE_REVALIDATE']}, "
        f"stale-if-error={config['CDN_STALE_IF_ERROR']}"
    )


def feed_response(feed: stored.StoredFeed, links: list[tuple[str, str]]) -> Response:
    """A cacheable response of stored bytes: ETag, Last-Modified, Cache-Control with CDN
    extensions, purge tags, CORS, gzip, 304s and HEAD; ``X-Accel-Redirect`` where set up.

    Every feed names its WebSub hub in ``Link`` (WebSub discovery), next to ``self``.
    """
    gzipped = _accepts_gzip()
    response = Response(feed.gzip_body if gzipped else feed.body, content_type=feed.content_type)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")  # the stored gzip copy is chosen by it
    response.set_etag(feed.etag)
    response.last_modified = feed.last_modified
    response.headers["Cache-Control"] = _cache_control(
        current_app.config["FEED_REFRESH_MINUTES"] * 60
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link"
    if feed.tags:
        response.headers["Surrogate-Key"] = " ".join(feed.tags)
        response.headers["Cache-Tag"] = ",".join(feed.tags)
    links = list(links)
    hub = hub_url()
    if hub and not any(rel == "hub" for _, rel in links):
        links.append((hub, "hub"))
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)
    if feed.filename:
        response.headers["Content-Disposition"] = f'inline; filename="{feed.filename}"'
    response = response.make_conditional(request)
    count_fetch()
    prefix = current_app.config["ACCEL_REDIRECT_PREFIX"]
    if prefix and request.method == "GET" and response.status_code == 200:
        _accel_redirect(response, feed, prefix)
    return response


def _accel_redirect(response: Response, feed: stored.StoredFeed, prefix: str) -> None:
    """Hand the body to the front: it serves the published file (and its ``.gz``) itself."""
    memo: PublishedMemo = memo_of(current_app)
    if memo.files.get(feed.key) != feed.etag:
        # This machine's worker may run elsewhere: make sure the file holds these bytes.
        publish_dir = current_app.config["PUBLISH_DIR"]
        path = path_of(publish_dir, feed.key)
        stat = path.stat() if path.exists() else None
        if (
            stat is None
            or int(stat.st_mtime) != int(feed.last_modified.timestamp())
            or (stat.st_size != len(feed.body))
        ):
            write_feed_files(publish_dir, feed.key, feed.body, feed.gzip_body, feed.last_modified)
        memo.files[feed.key] = feed.etag
    response.headers["X-Accel-Redirect"] = prefix + relative_name(feed.key)
    response.headers.pop("Content-Encoding", None)
    response.set_data(b"")
