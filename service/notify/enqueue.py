"""Building deliveries: message ids, which webhook subscriptions want an event, the body in
each subscription's format, verification requests and insert-once (reminders).

Who queues them: the worker expands the write path's fan-out outbox (``fanout.py``), the
publisher queues WebSub content checks (``feed_checks.py``), the worker plans reminders and
the hub queues verifications."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from ..domain.queries import championship_slugs_of
from ..store.engine import conflict_insert
from .chat import ChatMessage, chat_body
from .models import Delivery, WebhookSubscription
from .payloads import Event


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


def new_delivery_values(
    channel: str, event_type: str, payload: str, now: dt.datetime, **refs: Any
) -> dict[str, Any]:
    """The column values of a pending delivery, due now, with a new message id (for bulk
    inserts; ``new_delivery`` makes the ORM object)."""
    return {
        "public_id": new_message_id(),
        "channel": channel,
        "event_type": event_type,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        **refs,
    }


def new_delivery(
    channel: str, event_type: str, payload: str, now: dt.datetime, **refs: Any
) -> Delivery:
    """A pending delivery, due now, with a new message id."""
    return Delivery(**new_delivery_values(channel, event_type, payload, now, **refs))


def public_base_url() -> str:
    """``PUBLIC_BASE_URL``, else the current request's root; "" when neither is known."""
    if has_app_context() and current_app.config["PUBLIC_BASE_URL"]:
        return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return ""


def delivery_body(fmt: str, event: Event, base_url: str) -> dict[str, Any]:
    """The JSON a subscription in format ``fmt`` receives for ``event``."""
    if fmt == "standard":
        return event.body()
    url = f"{base_url}{event.path}" if base_url and event.path else None
    message = ChatMessage(event.title or "gridfeed", event.sentence or event.type, url, event.at)
    return chat_body(fmt, message)


def delivery_payload(fmt: str, event: Event, base_url: str) -> str:
    """The stored body (JSON text) of a delivery of ``event`` in format ``fmt``."""
    return json.dumps(
        delivery_body(fmt, event, base_url), ensure_ascii=False, separators=(",", ":")
    )


def webhook_delivery(
    sub: WebhookSubscription,
    event: Event,
    now: dt.datetime,
    base_url: str | None = None,
    **refs: Any,
) -> Delivery:
    """A pending delivery of ``event`` to ``sub``, in the subscription's format."""
    base = public_base_url() if base_url is None else base_url
    body = delivery_payload(sub.format, event, base)
    return new_delivery("webhook", event.type, body, now, webhook_id=sub.id, **refs)


def enqueue_verification(session: OrmSession, request: dict[str, Any], now: dt.datetime) -> bool:
    """Queue the verification of intent of a WebSub (un)subscription request.

    The same request (mode, topic, callback) is verified at most once a minute, so the hub
    cannot be used to hammer a callback with challenges. Returns whether it was queued.
    """
    same = hashlib.sha256(
        "\0".join([request["mode"], request["topic"], request["callback"]]).encode()
    ).hexdigest()
    delivery = new_delivery("websub_verify", f"websub.{request['mode']}", json.dumps(request), now)
    return bool(insert_once(session, delivery, f"verify:{same}:{now:%Y%m%d%H%M}"))


# -- reminders ----------------------------------------------------------------------------


def insert_once(session: OrmSession, delivery: Delivery, dedupe_key: str) -> int:
    """Insert ``delivery`` unless one with ``dedupe_key`` exists (atomic on both databases);
    1 if inserted, else 0."""
    values = {
        column.key: getattr(delivery, column.key)
        for column in Delivery.__table__.columns
        if column.key != "id"
    }
    values["dedupe_key"] = dedupe_key
    statement = conflict_insert(session, Delivery).values(values).on_conflict_do_nothing()
    # RETURNING counts what was inserted on both drivers (psycopg's rowcount here is -1).
    return len(session.execute(statement.returning(Delivery.id)).all())


# -- claiming and finishing ---------------------------------------------------------------
