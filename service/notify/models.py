"""The notification tables: webhook and WebSub subscriptions, the fan-out outbox, the outbox
of deliveries and their attempt log."""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UTCDateTime

WEBHOOK_EVENT_TYPES = (
    "session.scheduled",
    "session.changed",
    "session.cancelled",
    "round.changed",
    "results.published",
    "results.corrected",
    "article.published",
    "session.starting_soon",
)
# pending: waiting for its next attempt; delivering: claimed by a worker until lease_until;
# delivered / failed (gave up) / skipped (no longer applies) are final.
DELIVERY_STATUSES = ("pending", "delivering", "delivered", "failed", "skipped")
DELIVERY_CHANNELS = ("webhook", "websub", "websub_verify")


class WebhookSubscription(Base):
    """An integrator's webhook endpoint: where, which events, and for which championship.

    The signing secret must be usable to sign, so it cannot be hashed: it is stored encrypted
    with a key derived from ``SECRET_KEY`` (see ``signing.py``) and shown once, at creation.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    # The public id of the API token that created it; only that token sees and edits it.
    token_id: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    championship: Mapped[str | None] = mapped_column(String(100))
    competitor: Mapped[str | None] = mapped_column(String(100))
    reminder_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # What the body looks like: standard (Standard Webhooks), discord or slack (chat.py).
    format: Mapped[str] = mapped_column(String(20), default="standard", server_default="standard")
    secret_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the current run of failed attempts began; None while deliveries succeed.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebSubSubscription(Base):
    """A verified WebSub subscription of a callback to one of our feeds (a topic).

    Rows exist only once the subscriber has confirmed intent; until then the request waits
    in the outbox as a verification.
    """

    __tablename__ = "websub_subscriptions"
    __table_args__ = (UniqueConstraint("topic", "callback"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(1000))
    callback: Mapped[str] = mapped_column(String(1000))
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    lease_seconds: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    # active or unsubscribed
    state: Mapped[str] = mapped_column(String(20))
    # SHA-256 of the content the subscriber last received (or had at verification).
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The outbox: one message to one subscriber, written in the transaction that caused it.

    ``public_id`` is the message id (``webhook-id``), the same on every attempt. A worker owns
    a row while ``status`` is delivering and ``lease_until`` is in the future; a worker that
    dies leaves the lease to run out, and the row is claimed again with the same id.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id"), index=True
    )
    websub_id: Mapped[int | None] = mapped_column(ForeignKey("websub_subscriptions.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(60))
    # The JSON body for webhooks; the request for verifications; empty for WebSub content,
    # which is rendered when sent so that a retry carries the newest feed.
    payload: Mapped[str] = mapped_column(Text)
    # Makes planning idempotent (reminders: one per subscription, session and start time).
    dedupe_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """One attempt at a delivery: the delivery log."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(String(500))


class NotificationFanout(Base):
    """The fan-out outbox: one row per change that announces an event, written in the write
    transaction; a worker expands it into one delivery per matching webhook subscription.

    The event is stored as the write left the store (payloads describe that moment, not the
    moment a worker gets to it), with the base URL chat links use. ``max_subscription_id``
    is the snapshot: only subscriptions that existed when the change was written (ids up to
    it) receive the event. A worker deletes the row in the transaction that inserts its
    deliveries, so an expansion happens once or not at all (see ``fanout.py``).
    """

    __tablename__ = "notification_fanout"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_url: Mapped[str] = mapped_column(String(2000))
    max_subscription_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
