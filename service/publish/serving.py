"""Reading published feeds in a web process: a memo of the current publication only.

Each process keeps the feeds it served in a memo that holds the current publication only: it
is dropped whenever the publication counter moves (read at most every
``FEED_VERSION_RECHECK_SECONDS``) and after every write this process commits, so memory does
not grow with writes and a 200 or 304 costs no database work at all between checks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import event

from ..store.engine import get_store, read_session
from . import publisher, stored
from .feeds import spec_for_key

EXTENSION = "gridfeed.published_memo"
MEMO_MAX_ITEMS = 4096  # keys (each variant counts) remembered per publication


@dataclass
class PublishedMemo:
    """The feeds this process served from the current publication (and the unknown keys)."""

    version: int = -1
    checked_at: float = float("-inf")
    feeds: dict[str, stored.StoredFeed | None] = field(default_factory=dict)
    # Keys whose files this process has checked or written for X-Accel-Redirect, by ETag.
    files: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def forget(self) -> None:
        """Read the publication counter again on the next request."""
        self.checked_at = float("-inf")


def memo_of(app: Flask) -> PublishedMemo:
    """The app's memo of published feeds."""
    return app.extensions[EXTENSION]


def forget(app: Flask) -> None:
    """Make this process read the publication counter again on its next feed request."""
    memo_of(app).forget()


class NotPublishedYet(Exception):
    """A default feed was asked for before the first complete publication: answer 503."""


def init_app(app: Flask) -> None:
    """Give the app its memo, dropped after each of its committed writes."""
    memo = PublishedMemo()
    app.extensions[EXTENSION] = memo
    event.listen(get_store(app).write_sessions, "after_commit", lambda _session: memo.forget())


def published_feed(key: str) -> stored.StoredFeed | None:
    """The stored feed under ``key``; a variant asked for the first time is published now.

    A default feed on a published origin is never rendered here (a cold render of a large
    data set outlives the request): ``NotPublishedYet`` before the first complete
    publication, None (404) after it."""
    memo: PublishedMemo = current_app.extensions[EXTENSION]
    now = time.monotonic()
    if now - memo.checked_at >= current_app.config["FEED_VERSION_RECHECK_SECONDS"]:
        version, _ = stored.publish_version(read_session())
        with memo.lock:
            if version != memo.version:
                memo.feeds = {}
                memo.files = {}
                memo.version = version
            memo.checked_at = now
    if key in memo.feeds:
        return memo.feeds[key]
    found = stored.lookup(read_session(), key)
    if found is None and published_up_front(key):
        if not stored.publish_version(read_session())[1]:
            raise NotPublishedYet(key)
    elif found is None:
        # Not published yet: a variant nobody asked for, or an origin first seen. Publish it
        # once (it is then kept current by the publisher); unknown slugs stay None.
        found = publisher.publish_key(current_app._get_current_object(), key)  # type: ignore[attr-defined]
    with memo.lock:
        if len(memo.feeds) >= MEMO_MAX_ITEMS:
            memo.feeds.clear()
        memo.feeds[key] = found
    return found


def published_up_front(key: str) -> bool:
    """Whether ``key`` is a default feed (no query) on the origin every publication of
    everything covers (the configured public base URL, else localhost): such a feed is in the
    store once everything has been published, or does not exist. Origins first named by a
    request (no base URL configured) get their feeds published on demand, as before."""
    parsed = spec_for_key(key)
    if parsed is None or not parsed[1].is_default:
        return False
    configured = current_app.config["PUBLIC_BASE_URL"].rstrip("/") or publisher.DEFAULT_ORIGIN
    return parsed[0] == configured
