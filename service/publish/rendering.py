"""Render one feed from the store: load what it shows, call the pure renderer, and wrap the
bytes with what HTTP caching and a CDN need (ETag, Last-Modified, content type, purge tags).

Only the publisher calls this (the worker, the release step, or the writing process on the
embedded default); web requests read the stored bytes instead.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as OrmSession

from ..calendars.facts import CalendarMeta, current_and_next
from ..calendars.fragments import FragmentCache
from ..calendars.parts import compose
from ..domain import queries
from ..domain.site import Site
from ..domain.timesheet import slugify
from ..news.entries import NewsItem
from .calendar_parts import PartsMemory, PartsReader
from .feeds import CALENDAR, FeedSpec
from .news_rendering import render_news_feed
from .skeleton import RoundRef, Skeleton, SkeletonMemo

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Level 6, not 9: on the synthetic /calendar.ics (2.9 MB) level 9 took 2.4x the time for a
# copy 1.6 % smaller (176,687 vs 179,540 bytes), and this runs on every change of the feed.
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Rendered:
    """A feed's bytes ready to store and serve, with what HTTP caching and a CDN need."""

    body: bytes
    content_type: str
    last_modified: dt.datetime
    etag: str
    tags: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        body: bytes,
        content_type: str,
        last_modified: dt.datetime,
        tags: Sequence[str] = (),
    ) -> Rendered:
        """Wrap rendered bytes, computing a strong ETag from their content."""
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(body, content_type, last_modified, digest, tuple(tags))


def compress(body: bytes) -> bytes:
    """The gzip copy of ``body``, with no file name or time in its header (reproducible)."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def purge_tags(championships: Sequence[str], competitor: str | None = None) -> list[str]:
    """CDN purge tags: ``feeds``, one per championship shown and the competitor's own."""
    tags = ["feeds", *(f"championship-{slug}" for slug in sorted(set(championships)))]
    if competitor:
        tags.append(f"competitor-{competitor}")
    return tags


class Snapshot:
    """The store as one publish batch sees it. Calendars read the skeleton (column-only
    queries) and round parts (``publish.calendar_parts``); news loads only the items each
    feed shows (``publish.news_rendering``), once per scope for its three formats. Neither
    loads the whole championship graph."""

    def __init__(
        self,
        session: OrmSession,
        memory: PartsMemory,
        salt: str,
        skeletons: SkeletonMemo,
        now: dt.datetime | None = None,
    ) -> None:
        self.session = session
        # The instant the batch publishes for (the worker's clock): series calendars show the
        # seasons of its year.
        self.now = now or dt.datetime.now(dt.UTC)
        self.salt = salt
        self.skeletons = skeletons
        self.parts = PartsReader(session, memory)
        self._skeleton: Skeleton | None = None
        self._own_rounds: dict[int, frozenset[int]] = {}
        self._last_change: dict[tuple[str, ...] | None, dt.datetime | None] = {}
        self._news: dict[Hashable, list[NewsItem]] = {}

    def skeleton(self) -> Skeleton:
        """Every championship and round with its stamp, read once per batch."""
        if self._skeleton is None:
            self._skeleton = self.skeletons.load(self.session, self.salt)
        return self._skeleton

    def last_change_at(self, championships: Sequence[str] | None) -> dt.datetime | None:
        """``queries.last_change_at``, asked once per batch for each set of championships."""
        key = None if championships is None else tuple(championships)
        if key not in self._last_change:
            self._last_change[key] = queries.last_change_at(self.session, championships)
        return self._last_change[key]

    def own_rounds(self, competitor_id: int) -> frozenset[int]:
        """The rounds where the competitor has a result of their own."""
        if competitor_id not in self._own_rounds:
            own = queries.rounds_with_own_results(self.session, competitor_id)
            self._own_rounds[competitor_id] = frozenset(own)
        return self._own_rounds[competitor_id]

    def news_items(self, key: Hashable, collect: Callable[[], list[NewsItem]]) -> list[NewsItem]:
        """The news items of one scope, collected once per batch for every format."""
        if key not in self._news:
            self._news[key] = collect()
        return self._news[key]


def render_feed(
    snapshot: Snapshot, spec: FeedSpec, site: Site, hub: str | None, fragments: FragmentCache
) -> Rendered | None:
    """The feed ``spec`` on ``site`` as it is now; None when its slug or round is unknown."""
    if spec.family == CALENDAR:
        return _calendar(snapshot, spec, site, fragments)
    return _news(snapshot, spec, site, hub)


# -- calendars ----------------------------------------------------------------------------

Loaded = tuple[CalendarMeta, list[RoundRef], Any | None]


def _load_calendar(snapshot: Snapshot, spec: FeedSpec, url: str) -> Loaded | None:
    skeleton = snapshot.skeleton()
    if spec.kind == "all":
        meta = CalendarMeta(
            "gridfeed: all championships",
            "Every round and session of every championship on gridfeed, in each circuit's time.",
            url,
        )
        return meta, skeleton.rounds_of(skeleton.championships), None
    assert spec.slug is not None
    if spec.kind == "championship":
        found = skeleton.championship(spec.slug)
        if found is None:
            return None
        description = f"Every round and session of the {found.name}, in each circuit's time."
        return CalendarMeta(found.name, description, url), skeleton.rounds_of([found]), None
    if spec.kind == "competitor":
        competitor = queries.competitor_row(snapshot.session, spec.slug)
        if competitor is None:
            return None
        entered = queries.entered_championship_ids(snapshot.session, competitor.id)
        championships = [c for c in skeleton.championships if c.id in entered]
        description = (
            f"Every round and session of the championships {competitor.name} is entered in, "
            "with their results first."
        )
        rounds = skeleton.rounds_of(championships)
        return CalendarMeta(competitor.name, description, url), rounds, competitor
    if spec.kind == "series":
        seasons = [c for c in skeleton.championships if slugify(c.series) == spec.slug]
        if not seasons:
            return None
        seasons.sort(key=lambda c: (c.season, c.slug))
        # The seasons shown move on at New Year with no data change: the worker queues every
        # series calendar then (``new_year``), and the fingerprint holds the year for starts.
        shown = current_and_next(seasons, snapshot.now.astimezone(dt.UTC).year)  # type: ignore[arg-type]
        name = f"{seasons[-1].series}: current and next season"
        description = (
            f"Every round and session of the {seasons[-1].series}, "
            f"{' and '.join(str(c.season) for c in shown)}, in each circuit's time."
        )
        return CalendarMeta(name, description, url), skeleton.rounds_of(shown), None  # type: ignore[arg-type]
    assert spec.number is not None
    championship = skeleton.championship(spec.slug)
    round_ = None
    if championship is not None:
        round_ = next(
            (r for r in skeleton.rounds_of([championship]) if r.number == spec.number), None
        )
    if round_ is None:
        return None
    name = f"{round_.championship.name}: round {spec.number}, {round_.display_name}"
    return CalendarMeta(name, f"Sessions of {name}, in the circuit's time.", url), [round_], None


def _calendar(
    snapshot: Snapshot, spec: FeedSpec, site: Site, fragments: FragmentCache
) -> Rendered | None:
    loaded = _load_calendar(snapshot, spec, spec.key(site.base_url))
    if loaded is None:
        return None
    meta, rounds, competitor = loaded
    if competitor is not None:
        own = snapshot.own_rounds(competitor.id)
        parts = snapshot.parts.parts(site, rounds, competitor.id, own)
    else:
        parts = snapshot.parts.parts(site, rounds)
    body = compose(meta, site, parts, spec.options, fragments)
    slugs = sorted({r.championship.slug for r in rounds})
    scoped = None if spec.kind == "all" else slugs
    stamps = [max((r.updated_at for r in rounds), default=None), snapshot.last_change_at(scoped)]
    changed = max((s for s in stamps if s), default=EPOCH)
    tags = purge_tags(slugs, competitor.slug if competitor else None)
    return Rendered.of(body, CALENDAR_CONTENT_TYPE, changed, tags)


# -- news ---------------------------------------------------------------------------------


def _news(snapshot: Snapshot, spec: FeedSpec, site: Site, hub: str | None) -> Rendered | None:
    made = render_news_feed(snapshot, spec, site, hub)
    if made is None:
        return None
    tags = purge_tags(made.championships, made.competitor)
    return Rendered.of(made.body, made.content_type, made.last_modified, tags)
