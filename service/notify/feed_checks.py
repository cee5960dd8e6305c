"""WebSub content checks, queued by the publisher in the transaction that stores new bytes.

A check renders its topic when it runs, so it must not exist before the bytes it is about:
queued at write time, a worker could run it while another worker is still publishing, see
the old bytes (unchanged, so nothing is sent) and be done, and the subscriber would never get
the new feed. Queued with the stored bytes, a published change and its notification commit
together.

A topic is matched to the published keys by its feed (the publish scope: every option
variant and every origin of one feed URL shares it), so a topic spelled differently from the
canonical key still matches; a variant whose own bytes did not change is skipped when the
check runs (by hash). A topic that is no published feed (a one-session calendar, rendered on
request) is checked after every publication, as every topic was before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from ..publish.feeds import spec_for_key, spec_for_path
from .enqueue import new_delivery
from .models import Delivery, WebSubSubscription

FEED_UPDATED = "feed.updated"


def topic_scope(topic: str) -> str | None:
    """The publish scope of the feed a topic names; None when it names no published feed."""
    try:
        spec = spec_for_path(urlsplit(topic).path)
    except ValueError:
        return None
    return spec.scope if spec is not None else None


def _scopes_of(keys: Iterable[str]) -> set[str]:
    scopes = set()
    for key in keys:
        parsed = spec_for_key(key)
        if parsed is not None:
            scopes.add(parsed[1].scope)
    return scopes


def queue_for_published(session: OrmSession, changed_keys: Iterable[str], now: dt.datetime) -> int:
    """In the publisher's transaction: one content check per active WebSub subscription whose
    topic is among the feeds whose bytes changed, unless one is already waiting (a waiting
    check renders the topic when it runs, so it covers this publication too). Returns how
    many were queued."""
    scopes = _scopes_of(changed_keys)
    if not scopes:
        return 0
    waiting = select(Delivery.websub_id).where(
        Delivery.channel == "websub", Delivery.status == "pending", Delivery.attempts == 0
    )
    subs = session.execute(
        select(WebSubSubscription.id, WebSubSubscription.topic)
        .where(
            WebSubSubscription.state == "active",
            WebSubSubscription.expires_at > now,
            WebSubSubscription.id.not_in(waiting),
        )
        .order_by(WebSubSubscription.id)
    ).all()
    queued = 0
    for sub_id, topic in subs:
        scope = topic_scope(topic)
        if scope is None or scope in scopes:
            session.add(new_delivery("websub", FEED_UPDATED, "", now, websub_id=sub_id))
            queued += 1
    return queued
