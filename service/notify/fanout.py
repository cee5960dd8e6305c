"""Notification fan-out, out of the write transaction.

The write path records one outbox row per change that announces an event (``record``): the
event as the write left the store, the base URL links use, and the newest subscription id
(the snapshot). Its cost does not grow with the number of subscriptions.

The worker expands each row into one delivery per matching webhook subscription
(``expand``), in a transaction of its own that also deletes the row: the deliveries and the
"done" mark commit together, so a worker killed mid-expansion leaves the row to be expanded
again, and one that finished leaves nothing to expand twice. Rows are locked with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already excludes
other writers), and a worker expands only when it holds the oldest waiting row, so the
deliveries of a subscription are queued in the order of the changes, as they were when the
write path queued them itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.orm import Session as OrmSession

from ..domain.models import Change
from ..store.engine import write_session
from .enqueue import (
    competitor_scopes,
    delivery_payload,
    new_delivery_values,
    public_base_url,
    subscription_wants,
)
from .models import Delivery, NotificationFanout, WebhookSubscription
from .payloads import event_for_change, event_from_record

# Outbox rows one expansion locks at most, and the deliveries after which it stops taking
# further rows (one row is always expanded whole, however many subscriptions match it).
EXPAND_ROWS = 50
EXPAND_DELIVERIES = 2000


def _active() -> list[ColumnElement[bool]]:
    return [WebhookSubscription.enabled.is_(True), WebhookSubscription.deleted.is_(False)]


def record(session: OrmSession, changes: Iterable[Change], now: dt.datetime) -> int:
    """In the write transaction: one outbox row per change that announces an event, for the
    subscriptions that exist now. Returns how many rows."""
    changes = list(changes)
    if not changes:
        return 0
    newest = session.scalar(select(func.max(WebhookSubscription.id)).where(*_active()))
    if newest is None:
        return 0  # nobody to tell, and a subscription made later must not hear of these
    session.flush()  # the changes need their ids
    base_url = public_base_url()
    recorded = 0
    for change in changes:
        event = event_for_change(session, change)
        if event is None:
            continue
        session.add(
            NotificationFanout(
                change_id=change.id,
                event=event.to_record(),
                base_url=base_url,
                max_subscription_id=newest,
                created_at=now,
            )
        )
        recorded += 1
    return recorded


def expand(app: Flask) -> int:
    """Expand waiting outbox rows, oldest first, into webhook deliveries; return how many
    rows (0 when none waits or another worker is expanding older ones)."""
    with write_session(app) as session:
        rows = session.scalars(
            select(NotificationFanout)
            .order_by(NotificationFanout.id)
            .limit(EXPAND_ROWS)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        oldest = session.scalar(select(func.min(NotificationFanout.id)))
        if oldest != rows[0].id:
            # Another worker holds older rows: let it finish first, so that no subscription
            # gets a later change's delivery queued before an earlier one's.
            return 0
        newest = max(row.max_subscription_id for row in rows)
        subs = session.scalars(
            select(WebhookSubscription)
            .where(*_active(), WebhookSubscription.id <= newest)
            .order_by(WebhookSubscription.id)
        ).all()
        by_competitor = competitor_scopes(session, subs)
        done: list[int] = []
        values: list[dict[str, Any]] = []
        for row in rows:
            event = event_from_record(row.event)
            bodies: dict[str, str] = {}  # one body per format, shared by its subscriptions
            for sub in subs:
                scope = by_competitor.get(sub.competitor, frozenset())
                if sub.id > row.max_subscription_id or not subscription_wants(sub, event, scope):
                    continue
                if sub.format not in bodies:
                    bodies[sub.format] = delivery_payload(sub.format, event, row.base_url)
                values.append(
                    new_delivery_values(
                        "webhook",
                        event.type,
                        bodies[sub.format],
                        row.created_at,
                        webhook_id=sub.id,
                        change_id=row.change_id,
                    )
                )
            done.append(row.id)
            if len(values) >= EXPAND_DELIVERIES:
                break
        if values:
            # One multi-row INSERT: no ORM object per delivery (5,000 subscriptions, one row).
            session.execute(insert(Delivery), values)
        session.execute(delete(NotificationFanout).where(NotificationFanout.id.in_(done)))
        return len(done)


def expand_all(app: Flask) -> int:
    """Expand until no row waits that this worker may take; return how many rows."""
    total = 0
    while expanded := expand(app):
        total += expanded
    return total
