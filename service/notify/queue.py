"""The queue of deliveries: claims, outcomes, retries, replay and housekeeping.

- ``claim`` hands due deliveries to one worker: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
  SQLite the claim runs in a ``BEGIN IMMEDIATE`` transaction, which already excludes every
  other writer, and the conditional ``UPDATE`` re-checks the row. A claim is a lease: if its
  worker dies, the lease runs out and the delivery is claimed again, with the same message id.
- ``finish`` logs the attempt and decides: delivered, retry later (backoff with jitter), give
  up (and disable a subscription that keeps failing), or skip.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session as OrmSession

from ..domain.timing import utc_iso
from ..store.engine import write_session
from .models import Delivery, DeliveryAttempt, WebhookSubscription, WebSubSubscription


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
    # A rate limit (429): seconds the receiver asked us to wait before trying again.
    retry_after: float | None = None

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
        if self.retry_after is not None:
            return "rate_limited"
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
        if outcome.retry_after is not None and not _overdue(delivery, schedule, now):
            # Rate limited (Discord, Slack): wait as asked. The endpoint works, so this does
            # not use up a retry or count towards disabling the subscription.
            delivery.status = "pending"
            delivery.attempts -= 1
            wait = min(max(outcome.retry_after, MIN_RATE_LIMIT_WAIT), MAX_RATE_LIMIT_WAIT)
            delivery.next_attempt_at = now + dt.timedelta(seconds=wait)
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


# A receiver's wait is honoured within these bounds (seconds).
MIN_RATE_LIMIT_WAIT = 0.5
MAX_RATE_LIMIT_WAIT = 3600.0


def _overdue(delivery: Delivery, schedule: Sequence[float], now: dt.datetime) -> bool:
    """Whether a delivery has been trying longer than the whole retry schedule (an hour at
    least): a receiver that keeps answering 429 is then treated as failing."""
    return (now - delivery.created_at).total_seconds() > max(sum(schedule), MAX_RATE_LIMIT_WAIT)


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
