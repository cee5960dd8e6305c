"""Read queries on webhook subscriptions and their delivery log, for the API's views."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from .models import Delivery, DeliveryAttempt, WebhookSubscription

DELIVERY_LOG_SIZE = 1000


def webhooks_of_token(session: OrmSession, token_id: str) -> Sequence[WebhookSubscription]:
    """The live (not deleted) subscriptions a token made."""
    return session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.token_id == token_id,
            WebhookSubscription.deleted.is_(False),
        )
    ).all()


def webhook_of_token(
    session: OrmSession, token_id: str, public_id: str
) -> WebhookSubscription | None:
    """One live subscription of a token, by its public id, or None."""
    return session.scalar(
        select(WebhookSubscription).where(
            WebhookSubscription.public_id == public_id,
            WebhookSubscription.token_id == token_id,
            WebhookSubscription.deleted.is_(False),
        )
    )


def delivery_log(
    session: OrmSession, webhook_id: int, status: str | None
) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    """The newest deliveries of a subscription (in ``status`` if given) with their attempts."""
    query = select(Delivery).where(Delivery.webhook_id == webhook_id)
    if status:
        query = query.where(Delivery.status == status)
    deliveries = session.scalars(query.order_by(Delivery.id.desc()).limit(DELIVERY_LOG_SIZE)).all()
    logs: dict[int, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
    if logs:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(list(logs)))
            .order_by(DeliveryAttempt.id)
        ):
            logs[attempt.delivery_id].append(attempt)
    return [(d, logs[d.id]) for d in deliveries]


def delivery_of(session: OrmSession, webhook_id: int, public_id: str) -> Delivery | None:
    """One delivery of a subscription, by its message id, or None."""
    return session.scalar(
        select(Delivery).where(Delivery.webhook_id == webhook_id, Delivery.public_id == public_id)
    )
