"""The publisher: renders the feeds a change affects, once, and stores their bytes.

It runs in the worker (``flask worker``), in the release step (``flask publish``) and, on the
embedded default, in the process that wrote (right after the commit) and in the in-process
worker thread. Web requests never call it, except to publish a variant the first time it is
asked for (``publish_key``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session as OrmSession

from ..calendars.facts import FRAGMENTS_EXTENSION
from ..calendars.fragments import FragmentCache
from ..domain import queries
from ..domain.site import Site
from ..notify import feed_checks
from ..store.data_version import data_version
from ..store.engine import get_store, write_session
from . import jobs, stored
from .calendar_parts import PartRow, PartsMemory, prune_parts, save_parts
from .feeds import CALENDAR, NEWS, NEWS_FORMATS, FeedSpec, spec_for_key
from .files import path_of, remove_feed_files, write_feed_files
from .rendering import Rendered, Snapshot, render_feed
from .skeleton import SkeletonMemo

log = logging.getLogger("gridfeed.publish")
# The origin published for when no GRIDFEED_PUBLIC_BASE_URL is set and no request has named
# one yet: what the Flask test client and a local `curl localhost` send.
DEFAULT_ORIGIN = "http://localhost"
PARTS_EXTENSION = "gridfeed.calendar_parts"
SKELETON_EXTENSION = "gridfeed.calendar_skeleton"
CODE_EXTENSION = "gridfeed.renderer_code"
# Waiting jobs a publication of everything takes off the queue at once.
EVERYTHING_CLAIMS = 10_000
# The packages whose code decides the published bytes (see ``fingerprint``).
RENDERER_PACKAGES = ("calendars", "news", "publish", "domain")


def utc_now() -> dt.datetime:
    """The current instant in UTC."""
    return dt.datetime.now(dt.UTC)


def site_for(app: Flask, origin: str) -> Site:
    """The ``Site`` feeds are rendered for on ``origin``."""
    return Site(app.config["FEED_DOMAIN"], origin.rstrip("/"), app.config["FEED_REFRESH_MINUTES"])


def hub_for(app: Flask, origin: str) -> str:
    """The WebSub hub feeds on ``origin`` advertise."""
    return app.config["WEBSUB_HUB_URL"] or f"{origin.rstrip('/')}/websub"


def fragments_of(app: Flask) -> FragmentCache:
    """The app's VEVENT fragment cache (bounded LRU, shared by every calendar render)."""
    return app.extensions.setdefault(FRAGMENTS_EXTENSION, FragmentCache())


def parts_memory_of(app: Flask) -> PartsMemory:
    """The app's memory of calendar round parts (bounded; see ``calendar_parts``)."""
    return app.extensions.setdefault(PARTS_EXTENSION, PartsMemory())


def renderer_code(app: Flask) -> str:
    """A hash of the renderers' source (read once per process): stored parts made by other
    code are never reused."""
    if CODE_EXTENSION not in app.extensions:
        digest = hashlib.sha256()
        root = Path(__file__).resolve().parent.parent
        for package in RENDERER_PACKAGES:
            for source in sorted((root / package).glob("*.py")):
                digest.update(source.read_bytes())
        app.extensions[CODE_EXTENSION] = digest.hexdigest()[:32]
    return app.extensions[CODE_EXTENSION]


def snapshot_for(app: Flask, session: OrmSession, now: dt.datetime | None = None) -> Snapshot:
    """A batch's view of the store as of ``now``, sharing this process's memory of round
    parts."""
    skeletons = app.extensions.setdefault(SKELETON_EXTENSION, SkeletonMemo())
    return Snapshot(session, parts_memory_of(app), renderer_code(app), skeletons, now=now)


def default_origins(app: Flask, session: OrmSession) -> list[str]:
    """The origins default feeds are published for: the configured public base URL, or (on a
    deployment without one) every origin requests have named, and localhost."""
    configured = app.config["PUBLIC_BASE_URL"].rstrip("/")
    if configured:
        return [configured]
    return sorted({DEFAULT_ORIGIN, *stored.origins(session)})


# -- which feeds a scope means ------------------------------------------------------------


def _calendar_and_news(kind: str, slug: str | None) -> list[FeedSpec]:
    return [
        FeedSpec(CALENDAR, kind, slug),
        *(FeedSpec(NEWS, kind, slug, fmt=fmt) for fmt in NEWS_FORMATS),
    ]


def _news(kind: str, slug: str | None) -> list[FeedSpec]:
    return [FeedSpec(NEWS, kind, slug, fmt=fmt) for fmt in NEWS_FORMATS]


def specs_for_scope(session: OrmSession, scope: str) -> list[FeedSpec]:
    """The default feeds a publish scope (see ``jobs``) covers, read from the store now."""
    name, _, rest = scope.partition(":")
    if name == jobs.EVERYTHING:
        specs = _calendar_and_news("all", None)
        for slug in queries.championship_slugs(session):
            specs += _calendar_and_news("championship", slug)
        for slug, number in queries.round_numbers(session):
            specs.append(FeedSpec(CALENDAR, "round", slug, number))
        for slug in queries.competitor_slugs(session):
            specs += _calendar_and_news("competitor", slug)
        specs += [FeedSpec(CALENDAR, "series", slug) for slug in queries.series_slugs(session)]
        return specs
    if name in ("championship", "round"):
        championship, _, number = rest.partition(":")
        specs = _calendar_and_news("all", None) + _calendar_and_news("championship", championship)
        rounds = (
            [(championship, int(number))]
            if number
            else queries.round_numbers(session, championship)
        )
        specs += [FeedSpec(CALENDAR, "round", slug, n) for slug, n in rounds]
        for competitor in queries.competitor_slugs_in(session, championship):
            specs += _calendar_and_news("competitor", competitor)
        for series in queries.series_slugs(session, championship):
            specs.append(FeedSpec(CALENDAR, "series", series))
        return specs
    if name == "article":
        championships, competitors = queries.article_audience(session, rest)
        specs = _news("all", None)
        for slug in championships:
            specs += _news("championship", slug)
        for slug in competitors:
            specs += _news("competitor", slug)
        return specs
    if name == "news":
        kind, _, slug = rest.partition(":")
        return _news(kind, slug)
    if name == "competitor":
        return _calendar_and_news("competitor", rest)
    if name == jobs.SERIES:
        return [FeedSpec(CALENDAR, "series", rest)]
    raise ValueError(f"unknown publish scope {scope!r}")


# -- publishing ---------------------------------------------------------------------------


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off while a batch renders.

    A batch allocates a large, short-lived object graph (the loaded rows, the facts); the
    collector would walk it again and again (45–59 % of a re-render, measured in issue 11).
    Reference counting still frees everything; one collection runs at the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def fingerprint(app: Flask) -> str:
    """A hash of what published bytes depend on besides the data: the settings that show in
    feeds and the source of the renderers. A different one at start republishes everything."""
    digest = hashlib.sha256()
    for name in ("FEED_DOMAIN", "FEED_REFRESH_MINUTES", "PUBLIC_BASE_URL", "WEBSUB_HUB_URL"):
        digest.update(f"{name}={app.config[name]}\n".encode())
    # Series calendars show the current and next season: a new year changes them.
    digest.update(f"year={utc_now().year}\n".encode())
    digest.update(renderer_code(app).encode())
    return digest.hexdigest()[:32]


def publish_specs(
    app: Flask,
    specs: Iterable[FeedSpec],
    complete: str | None = None,
    now: dt.datetime | None = None,
    prune: bool = False,
) -> int:
    """Render each feed (default for every origin, plus every stored variant of it) and store
    the bytes that changed, in one transaction. A stored feed that no longer exists (a
    deleted competitor, a changed slug) is removed, so its URL answers 404 or redirects; with
    ``prune`` (everything was asked for) so is every stored feed outside ``specs``.
    Returns how many feeds changed."""
    now = now or utc_now()
    specs = list(dict.fromkeys(specs))
    store = get_store(app)
    wanted: dict[str, tuple[str, FeedSpec]] = {}
    rendered: dict[str, tuple[FeedSpec, Rendered]] = {}
    gone: list[str] = []
    with collector_paused(), store.sessions() as session:
        version = data_version(session)
        for origin in default_origins(app, session):
            for spec in specs:
                wanted[spec.key(origin)] = (origin, spec)
        for key in stored.keys_in_scopes(session, (s.scope for s in specs)):
            parsed = spec_for_key(key)
            if parsed is not None:
                wanted.setdefault(key, parsed)
        fragments = fragments_of(app)
        snapshot = snapshot_for(app, session, now)
        for key, (origin, spec) in wanted.items():
            made = render_feed(
                snapshot, spec, site_for(app, origin), hub_for(app, origin), fragments
            )
            if made is not None:
                rendered[key] = (spec, made)
            else:
                gone.append(key)
        if prune:
            scopes = {spec.scope for spec in specs}
            gone += [key for key, scope in stored.scopes_of_keys(session) if scope not in scopes]
    parts = list(snapshot.parts.made.values())
    return _store(app, rendered, version, now, complete, gone, parts, prune)


def _store(
    app: Flask,
    rendered: dict[str, tuple[FeedSpec, Rendered]],
    version: int,
    now: dt.datetime,
    complete: str | None,
    gone: Iterable[str] = (),
    parts: Sequence[PartRow] = (),
    prune_rounds: bool = False,
) -> int:
    changed = []
    gone = list(gone)
    with write_session(app) as session:
        save_parts(session, parts)
        if prune_rounds:
            prune_parts(session)
        removed = stored.remove(session, gone)
        for key, (spec, made) in rendered.items():
            row = stored.save(session, key, spec.scope, made, spec.filename, version, now)
            if row is not None:
                changed.append((key, made.body, row["gzip_body"], made.last_modified))
        if changed or removed or complete is not None:
            stored.bump_version(session, now, complete=complete)
        # WebSub subscribers of the changed feeds: checked once these bytes are stored.
        feed_checks.queue_for_published(session, [key for key, *_ in changed], now)
    publish_dir = app.config["PUBLISH_DIR"]
    if publish_dir:
        for key, body, gzip_body, last_modified in changed:
            write_feed_files(publish_dir, key, body, gzip_body, last_modified)
        for key in gone:
            remove_feed_files(publish_dir, key)
    if changed:
        log.info("published %d of %d feeds (data version %d)", len(changed), len(rendered), version)
    return len(changed)


def publish_everything(app: Flask, worker_id: str) -> int:
    """Publish every feed (release step, first start) and mark the publication complete.
    Work waiting at the start is covered by it and taken off the queue."""
    covered = jobs.claim(app, worker_id, EVERYTHING_CLAIMS, utc_now())
    with get_store(app).sessions() as session:
        specs = specs_for_scope(session, jobs.EVERYTHING)
    try:
        changed = publish_specs(app, specs, complete=fingerprint(app), prune=True)
    except Exception:
        jobs.release(app, covered, worker_id)
        raise
    # One transaction for every job (a release step after an import covers hundreds).
    jobs.finish(app, covered, worker_id)
    return changed


def sync_files(app: Flask) -> int:
    """Write every stored feed whose file under PUBLISH_DIR is missing or outdated (a new
    machine, a wiped directory); return how many were written."""
    publish_dir = app.config["PUBLISH_DIR"]
    if not publish_dir:
        return 0
    written = 0
    with get_store(app).sessions() as session:
        for key, size, last_modified in stored.file_facts(session):
            path = path_of(publish_dir, key)
            if path.exists():
                stat = path.stat()
                if stat.st_size == size and int(stat.st_mtime) == int(last_modified.timestamp()):
                    continue
            feed = stored.lookup(session, key)
            if feed is not None:
                write_feed_files(publish_dir, key, feed.body, feed.gzip_body, feed.last_modified)
                written += 1
    return written


def publish_key(app: Flask, key: str) -> stored.StoredFeed | None:
    """Publish one feed now (a variant asked for the first time); None if it does not exist."""
    parsed = spec_for_key(key)
    if parsed is None:
        return None
    origin, spec = parsed
    with get_store(app).sessions() as session:
        version = data_version(session)
        snapshot = snapshot_for(app, session)
        made = render_feed(
            snapshot, spec, site_for(app, origin), hub_for(app, origin), fragments_of(app)
        )
    if made is None:
        return None
    parts = list(snapshot.parts.made.values())
    _store(app, {key: (spec, made)}, version, utc_now(), complete=None, parts=parts)
    with get_store(app).sessions() as session:
        return stored.lookup(session, key)


def run_pending(app: Flask, worker_id: str, limit: int = 50, now: dt.datetime | None = None) -> int:
    """Claim waiting publish jobs and publish them (as one batch) as of ``now`` (the worker's
    clock; default the current time); return how many jobs."""
    claimed = jobs.claim(app, worker_id, limit, utc_now())
    if not claimed:
        return 0
    with get_store(app).sessions() as session:
        scopes = [c.scope for c in claimed]
        if jobs.EVERYTHING in scopes:
            specs = specs_for_scope(session, jobs.EVERYTHING)
        else:
            specs = [spec for scope in scopes for spec in specs_for_scope(session, scope)]
    try:
        publish_specs(app, specs, now=now, prune=jobs.EVERYTHING in scopes)
    except Exception:
        jobs.release(app, claimed, worker_id)
        raise
    jobs.finish(app, claimed, worker_id)
    return len(claimed)


def drain(app: Flask, worker_id: str, now: dt.datetime | None = None) -> int:
    """Publish until no job waits (jobs requested again meanwhile included)."""
    total = 0
    while True:
        done = run_pending(app, worker_id, now=now)
        if not done:
            return total
        total += done
