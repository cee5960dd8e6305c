"""Re-sealing every stored signing secret under the current ``SECRET_KEY``."""

from __future__ import annotations

import json
from collections.abc import Sequence

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from ..store.engine import write_session
from .models import Delivery, WebhookSubscription, WebSubSubscription
from .signing import reseal


def reseal_stored_secrets(app: Flask) -> int:
    """Re-seal webhook and WebSub secrets (and those waiting in verification requests) under
    the current key, opening each with it or a fallback; all or nothing. Return how many."""
    count = 0
    with write_session(app) as session:
        for row in sealed_subscriptions(session):
            row.secret_encrypted = reseal(app.config, row.secret_encrypted)
            count += 1
        for delivery in pending_with_sealed_secret(session):
            payload = json.loads(delivery.payload)
            if payload.get("secret_sealed"):
                payload["secret_sealed"] = reseal(app.config, payload["secret_sealed"])
                delivery.payload = json.dumps(payload)
                count += 1
    return count


def sealed_subscriptions(
    session: OrmSession,
) -> list[WebhookSubscription | WebSubSubscription]:
    """Every webhook and WebSub subscription that holds a sealed secret."""
    rows: list[WebhookSubscription | WebSubSubscription] = []
    for model in (WebhookSubscription, WebSubSubscription):
        rows.extend(session.scalars(select(model).where(model.secret_encrypted.is_not(None))).all())
    return rows


def pending_with_sealed_secret(session: OrmSession) -> Sequence[Delivery]:
    """Unfinished deliveries whose payload may carry a sealed secret (WebSub verifications)."""
    return session.scalars(
        select(Delivery).where(
            Delivery.status.in_(["pending", "delivering"]),
            Delivery.payload.like('%"secret_sealed"%'),
        )
    ).all()
