"""The outbox: notifications queued in the transaction that caused them, claimed by workers.

- ``enqueue_for_changes`` runs inside the write path's transaction: a change and its
  notifications commit together or not at all.
- ``plan_reminders`` queues ``session.starting_soon``; a unique key per subscription, session
  and planned start makes it exactly-once however many workers plan at the same time.
- ``claim`` hands due deliveries to one worker: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
  SQLite the claim runs in a ``BEGIN IMMEDIATE`` transaction, which already excludes every
  other writer, and the conditional ``UPDATE`` re-checks the row. A claim is a lease: if its
  worker dies, the lease runs out and the delivery is claimed again, with the same message id.
- ``finish`` logs the attempt and decides: delivered, retry later (backoff with jitter), give
  up (and disable a subscription that keeps failing), or skip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession

from .db import write_session
from .events import Event, event_for_change, reminder_event
from .models import (
    Change,
    Delivery,
    DeliveryAttempt,
    Round,
    Session,
    WebhookSubscription,
    WebSubSubscription,
    session_key,
)
from .queries import championship_slugs_of
from .timing import session_time, utc_iso

FEED_UPDATED = "feed.updated"
# Reminders are for scheduled sessions of rounds in these statuses (planned and re-checked).
REMINDER_ROUND_STATUSES = ("scheduled", "provisional")


def new_message_id() -> str:
    """A message id (``webhook-id``): unique, opaque, the same on every attempt."""
    return "msg_" + secrets.token_hex(12)


def active_webhooks(session: OrmSession) -> Sequence[WebhookSubscription]:
    """Enabled, undeleted webhook subscriptions."""
    return session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.enabled.is_(True), WebhookSubscription.deleted.is_(False)
        )
    ).all()


def subscription_wants(
    sub: WebhookSubscription, event: Event, competitor_championships: frozenset[str]
) -> bool:
    """Whether ``sub`` asked for ``event`` (its type and its championship/competitor filter)."""
    if event.type not in sub.event_types:
        return False
    if sub.championship and sub.championship not in event.championships:
        return False
    if sub.competitor:
        if event.competitors is not None:
            return sub.competitor in event.competitors
        return bool(event.championships & competitor_championships)
    return True


def competitor_scopes(
    session: OrmSession, subs: Iterable[WebhookSubscription]
) -> dict[str, frozenset[str]]:
    """For each competitor some subscription filters on: their championships' slugs."""
    return {
        s.competitor: championship_slugs_of(session, s.competitor) for s in subs if s.competitor
    }


def new_delivery(
    channel: str, event_type: str, payload: str, now: dt.datetime, **refs: Any
) -> Delivery:
    """A pending delivery, due now, with a new message id."""
    return Delivery(
        public_id=new_message_id(),
        channel=channel,
        event_type=event_type,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        **refs,
    )


def _webhook_delivery(
    sub: WebhookSubscription, event: Event, now: dt.datetime, **refs: Any
) -> Delivery:
    body = json.dumps(event.body(), ensure_ascii=False, separators=(",", ":"))
    return new_delivery("webhook", event.type, body, now, webhook_id=sub.id, **refs)


def enqueue_for_changes(session: OrmSession, changes: Iterable[Change], now: dt.datetime) -> int:
    """Queue the webhook events and WebSub content checks that ``changes`` cause."""
    changes = list(changes)
    if not changes:
        return 0
    queued = 0
    subs = active_webhooks(session)
    if subs:
        session.flush()  # the changes need their ids
        by_competitor = competitor_scopes(session, subs)
        for change in changes:
            event = event_for_change(session, change)
            if event is None:
                continue
            for sub in subs:
                if subscription_wants(sub, event, by_competitor.get(sub.competitor, frozenset())):
                    session.add(_webhook_delivery(sub, event, now, change_id=change.id))
                    queued += 1
    queued += _enqueue_feed_checks(session, now)
    return queued


def _enqueue_feed_checks(session: OrmSession, now: dt.datetime) -> int:
    """One content check per active WebSub subscription, unless one is already waiting.

    The content is rendered when the check runs, so one waiting check covers any number of
    writes, and a subscriber whose feed's bytes did not change is not sent anything.
    """
    waiting = select(Delivery.websub_id).where(
        Delivery.channel == "websub", Delivery.status == "pending", Delivery.attempts == 0
    )
    subs = session.scalars(
        select(WebSubSubscription).where(
            WebSubSubscription.state == "active",
            WebSubSubscription.expires_at > now,
            WebSubSubscription.id.not_in(waiting),
        )
    ).all()
    for sub in subs:
        session.add(new_delivery("websub", FEED_UPDATED, "", now, websub_id=sub.id))
    return len(subs)


def enqueue_verification(session: OrmSession, request: dict[str, Any], now: dt.datetime) -> bool:
    """Queue the verification of intent of a WebSub (un)subscription request.

    The same request (mode, topic, callback) is verified at most once a minute, so the hub
    cannot be used to hammer a callback with challenges. Returns whether it was queued.
    """
    same = hashlib.sha256(
        "\0".join([request["mode"], request["topic"], request["callback"]]).encode()
    ).hexdigest()
    delivery = new_delivery("websub_verify", f"websub.{request['mode']}", json.dumps(request), now)
    return bool(_insert_once(session, delivery, f"verify:{same}:{now:%Y%m%d%H%M}"))


# -- reminders ----------------------------------------------------------------------------


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
                planned += _insert_once(session, _webhook_delivery(sub, event, now), dedupe_key)
        return planned


def _insert_once(session: OrmSession, delivery: Delivery, dedupe_key: str) -> int:
    """Insert unless a delivery with ``dedupe_key`` exists (atomic on both databases)."""
    values = {
        column.key: getattr(delivery, column.key)
        for column in Delivery.__table__.columns
        if column.key != "id"
    }
    values["dedupe_key"] = dedupe_key
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(Delivery).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(Delivery).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases are not supported
        statement = insert(Delivery).values(values)
    # RETURNING counts what was inserted on both drivers (psycopg's rowcount here is -1).
    return len(session.execute(statement.returning(Delivery.id)).all())


# -- claiming and finishing ---------------------------------------------------------------


def claim(app: Flask, worker_id: str, limit: int, now: dt.datetime) -> list[int]:
    """Take up to ``limit`` due deliveries for ``worker_id``, leased for WORKER_LEASE_SECONDS."""
    if limit <= 0:
        return []
    lease = now + dt.timedelta(seconds=app.config["WORKER_LEASE_SECONDS"])
    due = or_(
        and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
        and_(Delivery.status == "delivering", Delivery.lease_until < now),
    )
    with write_session(app) as session:
        ids = session.scalars(
            select(Delivery.id)
            .where(due)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return []
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), due)
            .values(
                status="delivering",
                lease_until=lease,
                claimed_by=worker_id,
                attempts=Delivery.attempts + 1,
            )
        )
        return list(ids)


@dataclass(frozen=True)
class Outcome:
    """How one attempt went. ``skipped`` (a reason) ends the delivery without sending."""

    ok: bool
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    skipped: str | None = None
    content_hash: str | None = None

    @property
    def reason(self) -> str | None:
        """The error or skip reason, cut to what the log keeps."""
        text = self.error or self.skipped
        return text[:500] if text else None

    @property
    def label(self) -> str:
        """The attempt's outcome as logged."""
        if self.skipped:
            return "skipped"
        return "delivered" if self.ok else "failed"


def retry_delay(
    schedule: Sequence[float], attempts: int, rng: random.Random | None = None
) -> float:
    """Seconds before the next attempt after ``attempts`` failures, with ±20 % jitter."""
    base = schedule[min(attempts, len(schedule)) - 1]
    return base * (rng or random).uniform(0.8, 1.2)


def finish(app: Flask, delivery_id: int, worker_id: str, outcome: Outcome, now: dt.datetime) -> str:
    """Record an attempt and move the delivery on; return its new status."""
    schedule = app.config["DELIVERY_RETRY_SCHEDULE"]
    with write_session(app) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return "missing"
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                at=now,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                outcome=outcome.label,
                error=outcome.reason,
            )
        )
        if delivery.status != "delivering" or delivery.claimed_by != worker_id:
            # Our lease ran out and another worker has it now: log, but leave it to them.
            return delivery.status
        webhook = (
            session.get(WebhookSubscription, delivery.webhook_id) if delivery.webhook_id else None
        )
        websub = session.get(WebSubSubscription, delivery.websub_id) if delivery.websub_id else None
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.reason
        delivery.lease_until = None
        if outcome.skipped or outcome.ok:
            delivery.status = "skipped" if outcome.skipped else "delivered"
            delivery.finished_at = now
            if outcome.ok and webhook is not None:
                webhook.failing_since = None
            if websub is not None and outcome.content_hash:
                websub.content_hash = outcome.content_hash
            return delivery.status
        if webhook is not None and webhook.failing_since is None:
            webhook.failing_since = now
        if delivery.attempts > len(schedule) or delivery.channel == "websub_verify":
            delivery.status = "failed"
            delivery.finished_at = now
            if webhook is not None and webhook.enabled and webhook.failing_since is not None:
                webhook.enabled = False
                webhook.disabled_reason = (
                    f"disabled on {utc_iso(now)}: every delivery failed since "
                    f"{utc_iso(webhook.failing_since)}, and message {delivery.public_id} was "
                    f"given up after {delivery.attempts} attempts (last: "
                    f"{outcome.error or outcome.status_code}). Fix the endpoint, then PATCH "
                    "enabled=true and replay from the delivery log."
                )
                webhook.updated_at = now
            return delivery.status
        delivery.status = "pending"
        delivery.next_attempt_at = now + dt.timedelta(
            seconds=retry_delay(schedule, delivery.attempts)
        )
        return delivery.status


def replay(session: OrmSession, delivery: Delivery, now: dt.datetime) -> None:
    """Send a finished delivery once more, with the same message id (manual replay)."""
    delivery.status = "pending"
    delivery.next_attempt_at = now
    delivery.finished_at = None
    delivery.lease_until = None


def expire_websub_leases(app: Flask, now: dt.datetime) -> int:
    """Mark WebSub subscriptions whose lease ran out as expired; they receive nothing more."""
    with write_session(app) as session:
        result = session.execute(
            update(WebSubSubscription)
            .where(WebSubSubscription.state == "active", WebSubSubscription.expires_at <= now)
            .values(state="expired", updated_at=now)
        )
        return result.rowcount or 0


def purge_finished(app: Flask, now: dt.datetime) -> int:
    """Forget deliveries (and their attempt logs) finished over DELIVERY_LOG_DAYS ago."""
    cutoff = now - dt.timedelta(days=app.config["DELIVERY_LOG_DAYS"])
    old = select(Delivery.id).where(
        Delivery.status.in_(("delivered", "failed", "skipped")), Delivery.finished_at < cutoff
    )
    with write_session(app) as session:
        session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(old)))
        return session.execute(delete(Delivery).where(Delivery.id.in_(old))).rowcount or 0
