"""Webhook subscriptions in the API: create (the ``whsec_`` secret is shown once), list, read,
edit, delete, rotate the secret, read the delivery log and replay a delivery.

Subscriptions belong to the token that created it: another token neither sees nor edits
them. They are configuration, not championship data, so they leave no entry in the change
record; they are still written inside ``perform_write`` for Idempotency-Key handling.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint

from ..domain import queries
from ..notify import subscriptions
from ..notify.enqueue import webhook_delivery
from ..notify.models import Delivery, DeliveryAttempt, WebhookSubscription
from ..notify.outbound_http import UnsafeTarget, check_configured
from ..notify.payloads import ping_event
from ..notify.queue import replay
from ..notify.signing import new_webhook_secret, seal
from ..representations import instant
from ..store.engine import read_session, write_session
from ..writes import WriteError, Writer, utc_now
from .authorization import no_stored_object, webhook_championship, write_rule, writer
from .responses import json_response, page_response, paginate
from .schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryQuery,
    PageQuery,
    WebhookCreate,
    WebhookOut,
    WebhookPage,
    WebhookUpdate,
    WebhookWithSecretOut,
)
from .tokens import Principal, authenticate
from .writing import NotFoundError, authenticated_operation, check_if_match, perform_write

blp = Blueprint(
    "api_webhooks",
    __name__,
    url_prefix="/api/v1",
    description="Webhook subscriptions (Standard Webhooks): need a token with `webhooks`.",
)
_documented = authenticated_operation(blp)


def webhook_dict(sub: WebhookSubscription) -> dict[str, Any]:
    """A subscription as the API shows it (never its secret)."""
    href = f"/api/v1/webhooks/{sub.public_id}"
    return {
        "id": sub.public_id,
        "url": sub.url,
        "description": sub.description,
        "event_types": list(sub.event_types),
        "championship": sub.championship,
        "competitor": sub.competitor,
        "reminder_minutes": sub.reminder_minutes,
        "format": sub.format,
        "enabled": sub.enabled,
        "disabled_reason": sub.disabled_reason,
        "failing_since": instant(sub.failing_since),
        "created_at": instant(sub.created_at),
        "updated_at": instant(sub.updated_at),
        "deliveries": f"{href}/deliveries",
        "href": href,
    }


def delivery_dict(delivery: Delivery, log: list[DeliveryAttempt]) -> dict[str, Any]:
    """A delivery with its attempts."""
    return {
        "id": delivery.public_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": instant(delivery.created_at),
        "next_attempt_at": instant(delivery.next_attempt_at)
        if delivery.status == "pending"
        else None,
        "finished_at": instant(delivery.finished_at),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "payload": json.loads(delivery.payload) if delivery.payload else {},
        "log": [
            {
                "attempt": a.attempt,
                "at": instant(a.at),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "outcome": a.outcome,
                "error": a.error,
            }
            for a in log
        ],
    }


def _principal(championship: str | None = None) -> Principal:
    return authenticate("webhooks", championship)


def _own(session: Any, principal: Principal, public_id: str) -> WebhookSubscription:
    sub = subscriptions.webhook_of_token(session, principal.token_id, public_id)
    if sub is None:
        raise NotFoundError("webhook", f"no webhook subscription {public_id!r} for this token")
    return sub


def _check_target(url: str) -> None:
    try:
        check_configured(url, current_app.config)
    except UnsafeTarget as exc:
        raise WriteError("url", str(exc)) from None


def _check_filters(session: Any, principal: Principal, args: dict[str, Any]) -> None:
    championship = args.get("championship")
    if championship and not queries.championship_exists(session, championship):
        raise WriteError("championship", f"no championship {championship!r}")
    competitor = args.get("competitor")
    if competitor and not queries.competitor_exists(session, competitor):
        raise WriteError("competitor", f"no competitor {competitor!r}")


EDITABLE = (
    "url",
    "description",
    "event_types",
    "championship",
    "competitor",
    "reminder_minutes",
    "format",
)


@blp.route("/webhooks", methods=["POST"])
@blp.arguments(WebhookCreate)
@blp.response(201, WebhookWithSecretOut)
@_documented
@write_rule("webhooks", no_stored_object)
def create_webhook(args: dict[str, Any]) -> Response:
    """Subscribe a URL to events. The response shows the signing secret, once."""
    principal = writer()
    _check_target(args["url"])

    def action(w: Writer) -> tuple[int, Any, str]:
        _check_filters(w.session, principal, args)
        secret = new_webhook_secret()
        now = utc_now()
        sub = WebhookSubscription(
            public_id="wh_" + secrets.token_hex(8),
            token_id=principal.token_id,
            url=args["url"],
            description=args.get("description"),
            event_types=sorted(set(args["event_types"])),
            championship=args.get("championship"),
            competitor=args.get("competitor"),
            reminder_minutes=args.get("reminder_minutes")
            or current_app.config["REMINDER_DEFAULT_MINUTES"],
            secret_encrypted=seal(current_app.config, secret),
            format=args.get("format", "standard"),
            enabled=args.get("enabled", True),
            deleted=False,
            created_at=now,
            updated_at=now,
        )
        w.session.add(sub)
        w.session.flush()
        body = {**webhook_dict(sub), "secret": secret}
        return 201, body, body["href"]

    return perform_write(principal, action)


@blp.route("/webhooks", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, WebhookPage)
@_documented
def list_webhooks(args: dict[str, Any]) -> Response:
    """This token's webhook subscriptions."""
    principal = _principal()
    subs = subscriptions.webhooks_of_token(read_session(), principal.token_id)
    items = [webhook_dict(s) for s in subs]
    return page_response(
        paginate(items, lambda s: [s["created_at"], s["id"]], args["limit"], args["cursor"])
    )


@blp.route("/webhooks/<public_id>", methods=["GET"])
@blp.response(200, WebhookOut)
@_documented
def get_webhook(public_id: str) -> Response:
    """One subscription: its settings and whether it is enabled (and if not, why)."""
    return json_response(webhook_dict(_own(read_session(), _principal(), public_id)))


@blp.route("/webhooks/<public_id>", methods=["PATCH"])
@blp.arguments(WebhookUpdate)
@blp.response(200, WebhookOut)
@_documented
@write_rule("webhooks", webhook_championship)
def update_webhook(args: dict[str, Any], public_id: str) -> Response:
    """Change a subscription (If-Match required). `enabled: true` re-enables it."""
    principal = writer()
    if "url" in args:
        _check_target(args["url"])

    def action(w: Writer) -> tuple[int, Any, None]:
        sub = _own(w.session, principal, public_id)
        check_if_match(webhook_dict(sub))
        _check_filters(w.session, principal, args)
        for name in EDITABLE:
            if name in args:
                value = args[name]
                setattr(sub, name, sorted(set(value)) if name == "event_types" else value)
        if args.get("enabled") is True and not sub.enabled:
            sub.enabled, sub.disabled_reason, sub.failing_since = True, None, None
        elif args.get("enabled") is False and sub.enabled:
            sub.enabled, sub.disabled_reason = False, "disabled through the API"
        sub.updated_at = utc_now()
        return 200, webhook_dict(sub), None

    return perform_write(principal, action)


@blp.route("/webhooks/<public_id>", methods=["DELETE"])
@blp.response(204)
@_documented
@write_rule("webhooks", webhook_championship)
def delete_webhook(public_id: str) -> Response:
    """Stop and remove a subscription (its delivery log is kept)."""
    principal = writer()
    with write_session() as session:
        sub = _own(session, principal, public_id)
        sub.deleted, sub.enabled, sub.updated_at = True, False, utc_now()
    return Response(status=204)


@blp.route("/webhooks/<public_id>/rotate-secret", methods=["POST"])
@blp.response(200, WebhookWithSecretOut)
@_documented
@write_rule("webhooks", webhook_championship)
def rotate_secret(public_id: str) -> Response:
    """Replace the signing secret; the new one is shown once, and signs from now on."""
    principal = writer()
    secret = new_webhook_secret()
    with write_session() as session:
        sub = _own(session, principal, public_id)
        sub.secret_encrypted = seal(current_app.config, secret)
        sub.updated_at = utc_now()
        body = {**webhook_dict(sub), "secret": secret}
    return json_response(body, etag=False)


@blp.route("/webhooks/<public_id>/deliveries", methods=["GET"])
@blp.arguments(DeliveryQuery, location="query")
@blp.response(200, DeliveryPage)
@_documented
def list_deliveries(args: dict[str, Any], public_id: str) -> Response:
    """The delivery log, newest first (the latest 1,000): status, attempts, response codes
    and latencies of every attempt."""
    session = read_session()
    sub = _own(session, _principal(), public_id)
    log = subscriptions.delivery_log(session, sub.id, args.get("status"))
    items = [delivery_dict(d, attempts) for d, attempts in log]
    # Newest first, by creation time then message id: stable while new deliveries arrive.
    newest_first = {d.public_id: -d.created_at.timestamp() for d, _ in log}
    return page_response(
        paginate(items, lambda d: [newest_first[d["id"]], d["id"]], args["limit"], args["cursor"])
    )


@blp.route("/webhooks/<public_id>/deliveries/<message_id>/replay", methods=["POST"])
@blp.response(202, DeliveryOut)
@_documented
@write_rule("webhooks", webhook_championship)
def replay_delivery(public_id: str, message_id: str) -> Response:
    """Send a delivery again, with the same webhook-id (the receiver can de-duplicate)."""
    principal = writer()
    now = utc_now()
    with write_session() as session:
        sub = _own(session, principal, public_id)
        delivery = subscriptions.delivery_of(session, sub.id, message_id)
        if delivery is None:
            raise NotFoundError("delivery", f"no delivery {message_id!r} for this subscription")
        if delivery.status in {"pending", "delivering"}:
            raise WriteError("delivery", f"{message_id} is {delivery.status} already")
        if not sub.enabled:
            raise WriteError("webhook", "the subscription is disabled: PATCH enabled=true first")
        replay(session, delivery, now)
        session.flush()
        body = delivery_dict(delivery, [])
    return json_response(body, status=202, etag=False)


@blp.route("/webhooks/<public_id>/test", methods=["POST"])
@blp.response(202, DeliveryOut)
@_documented
@write_rule("webhooks", webhook_championship)
def test_webhook(public_id: str) -> Response:
    """Send a signed `ping` event now (queued for the worker, in the subscription's format),
    to check the set-up; follow it in the delivery log."""
    principal = writer()
    now = utc_now()
    with write_session() as session:
        sub = _own(session, principal, public_id)
        if not sub.enabled:
            raise WriteError("webhook", "the subscription is disabled: PATCH enabled=true first")
        delivery = webhook_delivery(sub, ping_event(sub.public_id, now), now)
        session.add(delivery)
        session.flush()
        body = delivery_dict(delivery, [])
    return json_response(body, status=202, etag=False)
