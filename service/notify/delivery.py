"""Carrying out one claimed delivery: build the request for its channel, sign it, send it
through the SSRF-safe client, and say how it went. Runs in the worker, never in a request.

Channels:
- ``webhook``: a Standard Webhooks POST of the stored JSON body.
- ``websub``: WebSub content distribution. The topic is rendered now, through the app
  itself, so the subscriber gets exactly the bytes and Link headers a GET would, and a retry
  carries the newest feed. Unchanged bytes (by hash) are not sent.
- ``websub_verify``: verification of intent, a GET challenge to the callback; on success the
  subscription is created, renewed or ended.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from flask import Flask
from sqlalchemy import select

from ..domain import queries
from ..domain.timing import session_time, utc_iso
from ..store.data_version import forget_data_version
from ..store.engine import get_store, write_session
from .models import Delivery, WebhookSubscription, WebSubSubscription
from .outbound_http import Answer, UnsafeTarget, check_configured, send
from .queue import Outcome
from .reminders import REMINDER_ROUND_STATUSES
from .signing import sign_webhook, sign_websub, unseal

USER_AGENT = "gridfeed-notifications/1 (+https://github.com/gridfeed/gridfeed)"


@dataclass(frozen=True)
class Job:
    """A claimed delivery with what sending it needs, read in one short transaction."""

    delivery_id: int
    message_id: str
    channel: str
    event_type: str
    payload: str
    webhook: dict[str, Any] | None
    websub: dict[str, Any] | None
    dedupe_key: str | None = None


def load_job(app: Flask, delivery_id: int) -> Job | None:
    """Read a claimed delivery and its subscription."""
    with get_store(app).sessions() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return None
        webhook = websub = None
        if delivery.webhook_id:
            sub = session.get(WebhookSubscription, delivery.webhook_id)
            webhook = {
                "url": sub.url,
                "secret": sub.secret_encrypted,
                "active": sub.enabled and not sub.deleted,
            }
        if delivery.websub_id:
            ws = session.get(WebSubSubscription, delivery.websub_id)
            websub = {
                "topic": ws.topic,
                "callback": ws.callback,
                "secret": ws.secret_encrypted,
                "state": ws.state,
                "expires_at": ws.expires_at,
                "content_hash": ws.content_hash,
            }
        return Job(
            delivery.id,
            delivery.public_id,
            delivery.channel,
            delivery.event_type,
            delivery.payload,
            webhook,
            websub,
            delivery.dedupe_key,
        )


def perform(app: Flask, job: Job, now: dt.datetime) -> Outcome:
    """Carry out one attempt of ``job``."""
    if job.channel == "webhook":
        return _webhook(app, job, now)
    if job.channel == "websub":
        return _websub_content(app, job, now)
    if job.channel == "websub_verify":
        return _websub_verify(app, job, now)
    return Outcome(ok=False, skipped=f"unknown channel {job.channel!r}")


def _send(app: Flask, url: str, method: str, headers: dict[str, str], body: bytes | None) -> Answer:
    target = check_configured(url, app.config)
    return send(
        target,
        method,
        {"User-Agent": USER_AGENT, **headers},
        body,
        app.config["DELIVERY_CONNECT_TIMEOUT"],
        app.config["DELIVERY_READ_TIMEOUT"],
        app.config["DELIVERY_MAX_RESPONSE_BYTES"],
    )


def _attempt(
    app: Flask,
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    **on_success: Any,
) -> tuple[Outcome, Answer | None]:
    """Send, and turn every way it can fail into a logged outcome (never an exception)."""
    try:
        answer = _send(app, url, method, headers, body)
    except UnsafeTarget as exc:
        return Outcome(ok=False, error=f"refused: {exc}"), None
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"), None
    ok = 200 <= answer.status < 300
    wait = rate_limit_wait(answer) if answer.status == 429 else None
    outcome = Outcome(
        ok=ok,
        status_code=answer.status,
        latency_ms=answer.latency_ms,
        error=None if ok else f"HTTP {answer.status}",
        retry_after=wait,
        **(on_success if ok else {}),
    )
    return outcome, answer


def rate_limit_wait(answer: Answer) -> float:
    """Seconds a 429 asks us to wait: ``Retry-After`` (seconds or an HTTP date, Slack and
    RFC 9110), else the JSON body's ``retry_after`` (seconds, Discord), else one second."""
    header = (answer.retry_after or "").strip()
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    try:
        value = json.loads(answer.body or b"null")
    except ValueError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("retry_after"), int | float):
        return max(0.0, float(value["retry_after"]))
    return 1.0


# -- webhooks -----------------------------------------------------------------------------


def _webhook(app: Flask, job: Job, now: dt.datetime) -> Outcome:
    assert job.webhook is not None
    if not job.webhook["active"]:
        return Outcome(ok=False, skipped="the subscription is disabled or deleted")
    if job.event_type == "session.starting_soon":
        moved = _reminder_obsolete(app, job.dedupe_key or "")
        if moved:
            return Outcome(ok=False, skipped=moved)
    body = job.payload.encode()
    timestamp = int(now.timestamp())
    secret = unseal(app.config, job.webhook["secret"])
    headers = {
        "Content-Type": "application/json",
        "webhook-id": job.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(secret, job.message_id, timestamp, body),
    }
    return _attempt(app, job.webhook["url"], "POST", headers, body)[0]


def _reminder_obsolete(app: Flask, dedupe_key: str) -> str | None:
    """Why a planned reminder no longer applies (moved, cancelled, gone), or None.

    The session and its planned start are read from the reminder's key
    (``reminder:<subscription>:<session key>:<start UTC>``, see ``reminders.py``): the
    body may be a chat message that carries neither.
    """
    try:
        _, _, key, planned_start = dedupe_key.split(":", 3)
    except ValueError:
        return "the reminder has no planned session"
    with get_store(app).sessions() as session:
        found = queries.session_by_key(session, key)
        if found is None:
            return "the session no longer exists"
        if found.status != "scheduled":
            return f"the session is {found.status}"
        if found.round.status not in REMINDER_ROUND_STATUSES:
            return f"the round is {found.round.status}"
        start = session_time(found).start_utc
        if start is None or utc_iso(start) != planned_start:
            return "the session moved since this reminder was planned"
    return None


# -- WebSub -------------------------------------------------------------------------------


def render_topic(app: Flask, topic: str) -> tuple[int, bytes, dict[str, str]]:
    """GET a topic (one of our feed URLs) through the app itself: status, bytes, headers."""
    parts = urlsplit(topic)
    # The write that queued this check committed; make sure this process reads its version.
    forget_data_version(app)
    response = app.test_client().get(
        parts.path + (f"?{parts.query}" if parts.query else ""),
        base_url=f"{parts.scheme}://{parts.netloc}",
    )
    headers = {
        name: response.headers[name]
        for name in ("Content-Type", "Link")
        if name in response.headers
    }
    return response.status_code, response.get_data(), headers


def content_hash(body: bytes) -> str:
    """What a subscriber's copy of a feed is compared by."""
    return hashlib.sha256(body).hexdigest()


def _websub_content(app: Flask, job: Job, now: dt.datetime) -> Outcome:
    sub = job.websub
    assert sub is not None
    if sub["state"] != "active":
        return Outcome(ok=False, skipped=f"the subscription is {sub['state']}")
    if sub["expires_at"] <= now:
        return Outcome(ok=False, skipped="the subscription's lease has expired")
    status, body, headers = render_topic(app, sub["topic"])
    if status != 200:
        return Outcome(ok=False, skipped=f"the topic answers {status}")
    digest = content_hash(body)
    if digest == sub["content_hash"]:
        return Outcome(ok=False, skipped="the feed's bytes did not change")
    if sub["secret"]:
        headers["X-Hub-Signature"] = sign_websub(unseal(app.config, sub["secret"]), body)
    return _attempt(app, sub["callback"], "POST", headers, body, content_hash=digest)[0]


def _websub_verify(app: Flask, job: Job, now: dt.datetime) -> Outcome:
    request = json.loads(job.payload)
    challenge = secrets.token_urlsafe(24)
    query = {
        "hub.mode": request["mode"],
        "hub.topic": request["topic"],
        "hub.challenge": challenge,
    }
    if request["mode"] == "subscribe":
        query["hub.lease_seconds"] = str(request["lease_seconds"])
    callback = request["callback"]
    url = callback + ("&" if urlsplit(callback).query else "?") + urlencode(query)
    outcome, answer = _attempt(app, url, "GET", {}, None)
    if not outcome.ok or answer is None:
        return outcome
    if answer.body.decode("utf-8", "replace").strip() != challenge:
        reason = "the callback did not echo hub.challenge: intent not verified"
        if request["mode"] == "subscribe":
            # WebSub §5.2: tell the subscriber, once, that no subscription was made. The
            # callback answered, so asking again would only repeat the same refusal.
            denied = {"hub.mode": "denied", "hub.topic": request["topic"], "hub.reason": reason}
            _attempt(
                app,
                callback + ("&" if urlsplit(callback).query else "?") + urlencode(denied),
                "GET",
                {},
                None,
            )
            return Outcome(ok=False, status_code=answer.status, skipped=f"denied: {reason}")
        return Outcome(
            ok=False, status_code=answer.status, latency_ms=answer.latency_ms, error=reason
        )
    _apply_verified(app, request, now)
    return outcome


def _apply_verified(app: Flask, request: dict[str, Any], now: dt.datetime) -> None:
    """Create, renew or end a subscription whose intent the subscriber confirmed."""
    current_hash = None
    if request["mode"] == "subscribe":
        status, body, _ = render_topic(app, request["topic"])
        current_hash = content_hash(body) if status == 200 else None
    with write_session(app) as session:
        sub = session.scalar(
            select(WebSubSubscription).where(
                WebSubSubscription.topic == request["topic"],
                WebSubSubscription.callback == request["callback"],
            )
        )
        if request["mode"] == "unsubscribe":
            if sub is not None:
                sub.state, sub.updated_at = "unsubscribed", now
            return
        if sub is None:
            sub = WebSubSubscription(
                topic=request["topic"], callback=request["callback"], created_at=now
            )
            session.add(sub)
        sub.secret_encrypted = request.get("secret_sealed")
        sub.lease_seconds = request["lease_seconds"]
        sub.expires_at = now + dt.timedelta(seconds=request["lease_seconds"])
        sub.state = "active"
        sub.content_hash = current_hash
        sub.updated_at = now
