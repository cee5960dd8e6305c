"""Webhooks end to end: API subscription, a write, the real worker, a real receiver on
loopback, and signatures checked with the standardwebhooks package (not our signer)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from service.notify import queue

from .notify_helpers import (
    ADAC,
    FAST,
    GT4,
    ROUND_2,
    auth,
    delivery_log,
    new_token,
    newest_delivery,
    notify_app,
    patch_session,
    running_worker,
    subscribe,
)
from .receivers import receiving, wait_for

RACE_1 = f"{ROUND_2}/sessions/race-1"


APP_CONFIG = FAST  # loopback receivers, fast retries


def _verify(secret: str, seen) -> dict:
    """Check one received request with standardwebhooks; return its payload."""
    return Webhook(secret).verify(seen.body, seen.headers)


def test_a_moved_session_is_delivered_signed_with_old_and_new_times(app, client, token) -> None:
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        assert sub["secret"].startswith("whsec_")
        # The secret is shown once: never again in a read.
        assert "secret" not in client.get(sub["href"], headers=auth(token)).json
        patch_session(client, token, RACE_1, local_time="14:00", duration_minutes=60)
        with running_worker(app):
            wait_for(lambda: receiver.posts(), what="the webhook")
        (seen,) = receiver.posts()
    payload = _verify(sub["secret"], seen)
    assert payload["type"] == "session.changed"
    session = payload["data"]["session"]
    # Saturday 3 June 2023 at Paul Ricard: CEST, UTC+2.
    assert session["local_start"] == "2023-06-03T14:00:00+02:00"
    assert session["timezone"] == "Europe/Paris"
    assert session["start_utc"] == "2023-06-03T12:00:00Z"
    previous = payload["data"]["previous"]
    assert previous["time_tbc"] is True and previous["local_date"] == "2023-06-03"
    assert previous["start_utc"] is None
    assert payload["data"]["changed_fields"] == ["duration_minutes", "local_time"]
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["webhook-id"].startswith("msg_")
    # A tampered body fails verification: the check above is not vacuous.
    with pytest.raises(WebhookVerificationError):
        Webhook(sub["secret"]).verify(seen.body + b" ", seen.headers)


def test_failing_twice_then_succeeding_is_one_accepted_delivery_with_one_id(
    app, client, token
) -> None:
    with receiving(statuses=[500, 503]) as receiver:
        sub = subscribe(client, token, receiver.url, ["session.cancelled"])
        patch_session(client, token, f"{ROUND_2}/sessions/race-2", status="cancelled")
        with running_worker(app):
            wait_for(lambda: len(receiver.posts()) == 3, what="three attempts")
            wait_for(lambda: newest_delivery(client, token, sub).get("status") == "delivered")
        posts = receiver.posts()
    assert len({p.headers["webhook-id"] for p in posts}) == 1
    assert [p.answered for p in posts] == [500, 503, 200]
    bodies = [_verify(sub["secret"], p) for p in posts]
    assert all(b["type"] == "session.cancelled" for b in bodies)
    (logged,) = delivery_log(client, token, sub)
    assert logged["id"] == posts[0].headers["webhook-id"]
    assert logged["attempts"] == 3
    assert [(a["attempt"], a["status_code"], a["outcome"]) for a in logged["log"]] == [
        (1, 500, "failed"),
        (2, 503, "failed"),
        (3, 200, "delivered"),
    ]
    assert all(isinstance(a["latency_ms"], int) for a in logged["log"])


def test_a_subscription_that_keeps_failing_is_disabled_then_replayed(app, client, token) -> None:
    with receiving(default=500) as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        patch_session(client, token, RACE_1, local_time="15:00")
        with running_worker(app):
            wait_for(lambda: newest_delivery(client, token, sub).get("status") == "failed")
        # The schedule has three retries: four attempts, then it gives up.
        assert len(receiver.posts()) == 4
        shown = client.get(sub["href"], headers=auth(token)).json
        assert shown["enabled"] is False
        assert "every delivery failed" in shown["disabled_reason"]
        (failed,) = delivery_log(client, token, sub)

        # A disabled subscription is not replayed until it is re-enabled.
        replay = f"{sub['deliveries']}/{failed['id']}/replay"
        assert client.post(replay, headers=auth(token)).status_code == 422
        etag = client.get(sub["href"], headers=auth(token)).headers["ETag"]
        enabled = client.patch(
            sub["href"], json={"enabled": True}, headers=auth(token, **{"If-Match": etag})
        )
        assert enabled.status_code == 200 and enabled.json["disabled_reason"] is None
        receiver.default = 200
        assert client.post(replay, headers=auth(token)).status_code == 202
        with running_worker(app):
            wait_for(lambda: newest_delivery(client, token, sub).get("status") == "delivered")
        posts = receiver.posts()
    assert len(posts) == 5 and posts[-1].answered == 200
    assert {p.headers["webhook-id"] for p in posts} == {failed["id"]}


def test_filters_by_event_type_championship_and_competitor(app, client, token) -> None:
    with receiving() as gt4, receiving() as adac, receiving() as jessica, receiving() as results:
        subscribe(client, token, gt4.url, ["session.changed"], championship=GT4)
        subscribe(client, token, adac.url, ["session.changed"], championship=ADAC)
        subscribe(client, token, jessica.url, ["session.changed"], competitor="jessica-backman")
        subscribe(client, token, results.url, ["results.published", "results.corrected"])
        patch_session(client, token, RACE_1, local_time="16:00")
        with running_worker(app):
            wait_for(lambda: gt4.posts() and jessica.posts(), what="both deliveries")
        assert not adac.posts() and not results.posts()
        assert json.loads(jessica.posts()[0].body)["data"]["session"]["slug"] == "race-1"


def test_a_rejected_write_notifies_nobody(app, client, token) -> None:
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        etag = client.get(RACE_1).headers["ETag"]
        # A date outside the round: 422, nothing written, so nothing queued.
        rejected = client.patch(
            RACE_1, json={"local_date": "2023-07-01"}, headers=auth(token, **{"If-Match": etag})
        )
        assert rejected.status_code == 422
        with running_worker(app) as worker:
            assert worker.run_once() == 0
        assert delivery_log(client, token, sub) == [] and receiver.posts() == []


def test_a_slow_receiver_does_not_hold_up_the_others(app, client, token) -> None:
    # The slow one takes 10 s to answer; the read timeout (3 s here) cuts it off.
    hold = threading.Event()
    with receiving(hold=hold, hold_max=10.0) as slow, receiving() as fast:
        slow_sub = subscribe(client, token, slow.url, ["session.changed"])
        subscribe(client, token, fast.url, ["session.changed"])
        patch_session(client, token, RACE_1, local_time="17:00")
        with running_worker(app):
            wait_for(lambda: slow.in_flight == 1, what="the slow receiver to hold a request")
            wait_for(lambda: fast.posts(), what="the fast receiver's delivery")
            # Delivered and answered while the slow receiver is still holding its request.
            wait_for(lambda: fast.posts()[0].answered == 200)
            assert slow.in_flight == 1
            wait_for(
                lambda: newest_delivery(client, token, slow_sub).get("log"),
                what="the slow attempt to time out",
            )
        hold.set()
    first = delivery_log(client, token, slow_sub)[0]["log"][0]
    assert first["outcome"] == "failed" and "timed out" in first["error"].lower()


def test_ssrf_targets_are_refused(db_path: Path) -> None:
    app = notify_app(db_path, ALLOW_LOOPBACK_TARGETS=False)
    client, token = app.test_client(), new_token(app)
    for url, reason in [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fd00:ec2::254]/", "private"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://0.0.0.0/", "private"),
        ("ftp://example.org/hook", "http:// or https://"),
        ("http://user:pw@127.0.0.1/", "user name or password"),
    ]:
        response = client.post(
            "/api/v1/webhooks",
            json={"url": url, "event_types": ["session.changed"]},
            headers=auth(token),
        )
        assert response.status_code == 422, (url, response.json)
        assert response.json["errors"][0]["field"] == "url"
        assert reason in response.json["detail"], (url, response.json["detail"])


def test_a_target_refused_at_delivery_time_is_logged_not_sent(db_path: Path) -> None:
    # Registered while loopback was allowed; the setting is then turned off (as a DNS
    # answer that changes to a private address would be): the worker refuses to connect.
    app = notify_app(db_path)
    client, token = app.test_client(), new_token(app)
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        patch_session(client, token, RACE_1, local_time="18:00")
        app.config["ALLOW_LOOPBACK_TARGETS"] = False
        with running_worker(app):
            wait_for(lambda: newest_delivery(client, token, sub).get("log"))
        assert receiver.posts() == []
    error = delivery_log(client, token, sub)[0]["log"][0]["error"]
    assert error.startswith("refused:") and "loopback" in error


def test_subscriptions_are_the_creating_tokens_own(app, client, token) -> None:
    other = new_token(app)
    sub = subscribe(client, token, "http://127.0.0.1:9/hook", ["round.changed"])
    assert client.get(sub["href"], headers=auth(other)).status_code == 404
    assert client.get("/api/v1/webhooks", headers=auth(other)).json["items"] == []
    assert [s["id"] for s in client.get("/api/v1/webhooks", headers=auth(token)).json["items"]] == [
        sub["id"]
    ]
    no_permission = new_token(app, "--permission", "articles")
    denied = client.get("/api/v1/webhooks", headers=auth(no_permission))
    assert denied.status_code == 403
    scoped = new_token(app, "--championship", ADAC, "--permission", "webhooks")
    outside = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/", "event_types": ["round.changed"], "championship": GT4},
        headers=auth(scoped),
    )
    assert outside.status_code == 403
    assert client.delete(sub["href"], headers=auth(token)).status_code == 204
    assert client.get(sub["href"], headers=auth(token)).status_code == 404


def test_bad_subscriptions_name_the_field(client, token) -> None:
    cases = [
        ({"url": "http://127.0.0.1:9/", "event_types": ["session.exploded"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/", "event_types": []}, "event_types"),
        ({"event_types": ["session.changed"]}, "url"),
        (
            {"url": "http://127.0.0.1:9/", "event_types": ["round.changed"], "championship": "f1"},
            "championship",
        ),
        (
            {"url": "http://127.0.0.1:9/", "event_types": ["round.changed"], "secret": "x"},
            "secret",
        ),
        (
            {
                "url": "http://127.0.0.1:9/",
                "event_types": ["session.starting_soon"],
                "reminder_minutes": 0,
            },
            "reminder_minutes",
        ),
    ]
    for body, field in cases:
        response = client.post("/api/v1/webhooks", json=body, headers=auth(token))
        assert response.status_code == 422, (body, response.json)
        assert response.content_type == "application/problem+json"
        assert any(e["field"].startswith(field) for e in response.json["errors"]), response.json


def test_rotating_the_secret_signs_with_the_new_one(app, client, token) -> None:
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        rotated = client.post(f"{sub['href']}/rotate-secret", headers=auth(token))
        assert rotated.status_code == 200
        new_secret = rotated.json["secret"]
        assert new_secret != sub["secret"]
        patch_session(client, token, RACE_1, local_time="13:00")
        with running_worker(app):
            wait_for(lambda: receiver.posts())
        (seen,) = receiver.posts()
    assert _verify(new_secret, seen)["type"] == "session.changed"
    with pytest.raises(WebhookVerificationError):
        _verify(sub["secret"], seen)


def test_results_and_articles_events(app, client, token) -> None:
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["results.corrected", "article.published"])
        results_url = f"{ROUND_2}/sessions/race-1/results"
        current = client.get(results_url)
        lines = [
            {k: line[k] for k in ("entry", "outcome", "note") if line.get(k) is not None}
            for line in current.json["lines"]
        ]
        lines[0]["note"] = "Retired on lap 1 after contact (corrected)"
        corrected = client.put(
            results_url,
            json={"status": "published", "lines": lines},
            headers=auth(token, **{"If-Match": current.headers["ETag"]}),
        )
        assert corrected.status_code == 200, corrected.json
        article = {
            "slug": "zandvoort-preview",
            "title": "Zandvoort preview",
            "body_markdown": "Round 2 of ADAC GT4 Germany.",
            "championships": [ADAC],
            "competitors": ["andreas-backman"],
        }
        assert client.post("/api/v1/articles", json=article, headers=auth(token)).status_code == 201
        with running_worker(app):
            wait_for(lambda: len(receiver.posts()) == 2)
        types = sorted(_verify(sub["secret"], p)["type"] for p in receiver.posts())
    assert types == ["article.published", "results.corrected"]


def test_a_redirect_is_a_failed_attempt_not_followed(app, client, token) -> None:
    with receiving(statuses=[302]) as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        patch_session(client, token, RACE_1, local_time="10:00")
        with running_worker(app):
            wait_for(lambda: newest_delivery(client, token, sub).get("status") == "delivered")
        assert [p.answered for p in receiver.posts()] == [302, 200]
    log = delivery_log(client, token, sub)[0]["log"]
    assert (log[0]["status_code"], log[0]["outcome"], log[0]["error"]) == (
        302,
        "failed",
        "HTTP 302",
    )


def test_finished_deliveries_are_kept_for_the_log_period_then_forgotten(app, client, token) -> None:
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        patch_session(client, token, RACE_1, local_time="11:00")
        with running_worker(app):
            wait_for(lambda: newest_delivery(client, token, sub).get("status") == "delivered")
    now = dt.datetime.now(dt.UTC)
    assert queue.purge_finished(app, now + dt.timedelta(days=29)) == 0
    assert len(delivery_log(client, token, sub)) == 1
    assert queue.purge_finished(app, now + dt.timedelta(days=31)) == 1
    assert delivery_log(client, token, sub) == []
