"""Reminders: ``session.starting_soon``, planned by the worker. A unique key per subscription,
session and planned start makes it exactly-once however many workers plan at the same time."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from ..domain.keys import session_key
from ..domain.models import Round, Session
from ..domain.timing import session_time, utc_iso
from ..store.engine import write_session
from .enqueue import (
    active_webhooks,
    competitor_scopes,
    insert_once,
    subscription_wants,
    webhook_delivery,
)
from .models import Delivery, WebhookSubscription
from .payloads import reminder_event

# Reminders are for scheduled sessions of rounds in these statuses (planned and re-checked).
REMINDER_ROUND_STATUSES = ("scheduled", "provisional")


def plan_reminders(app: Flask, now: dt.datetime) -> int:
    """Queue ``session.starting_soon`` for every subscription whose lead time has come.

    A reminder is due from N minutes before the start until the start. Its key names the
    subscription, the session and the planned start: a second planner inserts nothing, and
    a session moved to a new time gets a new reminder at the new time.
    """
    with write_session(app) as session:
        subs = [s for s in active_webhooks(session) if "session.starting_soon" in s.event_types]
        if not subs:
            return 0
        lead = dt.timedelta(minutes=max(s.reminder_minutes for s in subs))
        candidates = session.scalars(
            select(Session)
            .join(Round)
            .where(
                Session.status == "scheduled",
                Session.local_time.is_not(None),
                Session.local_date >= (now - dt.timedelta(days=1)).date(),
                Session.local_date <= (now + lead + dt.timedelta(days=1)).date(),
                Round.status.in_(REMINDER_ROUND_STATUSES),
            )
        ).all()
        by_competitor = competitor_scopes(session, subs)
        due: dict[str, tuple[WebhookSubscription, Session]] = {}
        for found in candidates:
            start = session_time(found).start_utc
            if start is None or start <= now:
                continue
            at = utc_iso(start)
            key = session_key(found.round.championship.slug, found.round.number, found.slug)
            for sub in subs:
                if start - dt.timedelta(minutes=sub.reminder_minutes) <= now:
                    due[f"reminder:{sub.public_id}:{key}:{at}"] = (sub, found)
        # Every planning tick sees the same due reminders until the sessions start: look up
        # the ones already queued at once rather than build and insert each again.
        queued = set(
            session.scalars(select(Delivery.dedupe_key).where(Delivery.dedupe_key.in_(list(due))))
        )
        planned = 0
        for dedupe_key, (sub, found) in due.items():
            if dedupe_key in queued:
                continue
            event = reminder_event(found, sub.reminder_minutes, now)
            scope = by_competitor.get(sub.competitor, frozenset())
            if subscription_wants(sub, event, scope):
                delivery = webhook_delivery(sub, event, now, app.config["PUBLIC_BASE_URL"])
                planned += insert_once(session, delivery, dedupe_key)
        return planned
