"""The WebSub hub: discovery, verification of intent with a real callback server on loopback,
content distribution after a write with a valid X-Hub-Signature, leases and refusals."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import feedparser
import pytest

from service.publish import jobs
from service.writes import utc_now

from .notify_helpers import (
    ADAC,
    FAST,
    GT4,
    ROUND_2,
    drain,
    new_token,
    notify_app,
    patch_session,
    running_worker,
    websub_outcomes,
)
from .receivers import receiving, wait_for

TOPIC = f"http://localhost/championships/{GT4}/news.atom"
CALENDAR = f"http://localhost/championships/{GT4}/calendar.ics"


APP_CONFIG = FAST  # loopback receivers, fast retries


def _hub(client, **params: str):
    return client.post("/websub", data={f"hub.{k}": v for k, v in params.items()})


def _subscribed(app, client, receiver, topic: str = TOPIC, **extra: str) -> None:
    response = _hub(client, mode="subscribe", topic=topic, callback=receiver.url, **extra)
    assert response.status_code == 202, response.data
    drain(app)  # the verification GET is sent and its answer recorded
    assert receiver.gets(), "no verification GET arrived"


def test_every_feed_advertises_the_hub(client) -> None:
    for url in (
        "/news.rss",
        "/news.atom",
        "/news.json",
        "/calendar.ics",
        f"/championships/{GT4}/rounds/2.ics",
        "/competitors/jessica-backman/news.json",
    ):
        links = client.get(url).headers["Link"]
        assert '<http://localhost/websub>; rel="hub"' in links, url
        assert 'rel="self"' in links
    assert client.get("/news.json").json["hubs"] == [
        {"type": "WebSub", "url": "http://localhost/websub"}
    ]


def test_verified_subscriber_gets_the_new_feed_signed(app, client, token) -> None:
    with receiving() as receiver:
        _subscribed(app, client, receiver, secret="s3cr3t-of-the-subscriber", lease_seconds="86400")
        (challenge,) = receiver.gets()
        assert challenge.query["hub.mode"] == ["subscribe"]
        assert challenge.query["hub.topic"] == [TOPIC]
        assert challenge.query["hub.lease_seconds"] == ["86400"]
        assert receiver.posts() == []  # nothing until the feed changes

        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="14:00")
        with running_worker(app):
            wait_for(lambda: receiver.posts(), what="the content distribution")
        (delivery,) = receiver.posts()
    served = client.get(TOPIC)
    assert delivery.body == served.data
    assert delivery.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert f'<{TOPIC}>; rel="self"' in delivery.headers["link"]
    assert '<http://localhost/websub>; rel="hub"' in delivery.headers["link"]
    expected = hmac.new(b"s3cr3t-of-the-subscriber", delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["x-hub-signature"] == f"sha256={expected}"
    feed = feedparser.parse(delivery.body)
    assert feed.bozo == 0
    assert any("Race 1" in e.title and "14:00" in e.title for e in feed.entries)


def test_an_unverified_subscription_gets_nothing(app, client, token) -> None:
    with receiving(echo_challenge=False) as receiver:
        _subscribed(app, client, receiver)
        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="15:00")
        drain(app)
        assert websub_outcomes(app) == []  # no subscription exists, so nothing was queued
        assert receiver.posts() == []


def test_unsubscribe_and_expiry_stop_deliveries(db_path: Path) -> None:
    app = notify_app(db_path, WEBSUB_LEASE_SECONDS=(1, 1, 1))
    client, token = app.test_client(), new_token(app)
    with receiving() as leased, receiving() as leaving:
        _subscribed(app, client, leased)
        _subscribed(app, client, leaving, lease_seconds="999999")
        assert leased.gets()[0].query["hub.lease_seconds"] == ["1"]  # clamped to our limits
        response = _hub(client, mode="unsubscribe", topic=TOPIC, callback=leaving.url)
        assert response.status_code == 202
        with running_worker(app):
            wait_for(lambda: len(leaving.gets()) == 2, what="the unsubscribe verification")
            time.sleep(1.2)  # the 1 s lease runs out
        assert leaving.gets()[1].query["hub.mode"] == ["unsubscribe"]
        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="16:00")
        drain(app)
        assert leased.posts() == [] and leaving.posts() == []


def test_only_writes_that_change_a_topic_s_bytes_are_sent(app, client, token) -> None:
    with receiving() as receiver:
        _subscribed(app, client, receiver, topic=CALENDAR)
        # A change to another championship leaves this calendar's bytes as they were.
        created = client.post(
            f"/api/v1/championships/{ADAC}/rounds/2/sessions",
            json={"slug": "race-1", "name": "Race 1", "kind": "race"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.json
        # Drain the worker: the publisher stored no new bytes for this calendar, so no
        # content check was even queued for it.
        drain(app)
        assert websub_outcomes(app) == []
        assert receiver.posts() == []
        patch_session(client, token, f"{ROUND_2}/sessions/qualifying-1", local_time="09:30")
        with running_worker(app):
            wait_for(lambda: receiver.posts(), what="the calendar")
        (delivery,) = receiver.posts()
    assert delivery.headers["content-type"] == "text/calendar; charset=utf-8"
    assert delivery.body == client.get(CALENDAR).data
    assert b"09:30" in delivery.body


def test_a_check_waits_for_the_publication_it_is_about(db_path: Path) -> None:
    """Regression: a content check queued at write time could run while another worker was
    still publishing the change; it saw the old bytes ("did not change"), was done, and the
    subscriber never got the new feed. Publishing is left to workers here, as on PostgreSQL."""
    app = notify_app(db_path, PUBLISH_IN_PROCESS="0")
    client, token = app.test_client(), new_token(app)
    with receiving() as receiver:
        _subscribed(app, client, receiver)
        before = client.get(TOPIC).data
        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="14:00")
        # Another worker has taken the publish work and is still rendering ...
        taken = jobs.claim(app, "another-worker", 50, utc_now())
        assert taken
        drain(app)  # ... while this one sends whatever is due: nothing may go out yet.
        assert receiver.posts() == []
        assert client.get(TOPIC).data == before  # the change is not published yet
        # The other worker gives up (or dies and its lease runs out).
        jobs.release(app, taken, "another-worker")
        drain(app)  # this worker publishes, then sends
        posts = receiver.posts()
    served = client.get(TOPIC).data
    assert served != before
    assert [p.body for p in posts] == [served]
    feed = feedparser.parse(posts[0].body)
    assert any("Race 1" in e.title and "14:00" in e.title for e in feed.entries)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"mode": "follow", "topic": TOPIC, "callback": "http://127.0.0.1:9/"}, "hub.mode"),
        ({"mode": "subscribe", "callback": "http://127.0.0.1:9/"}, "hub.topic: missing"),
        (
            {
                "mode": "subscribe",
                "topic": "https://elsewhere.example/feed",
                "callback": "http://127.0.0.1:9/",
            },
            "hub.topic: this hub serves only",
        ),
        (
            {
                "mode": "subscribe",
                "topic": "http://localhost/api/v1/sessions",
                "callback": "http://127.0.0.1:9/",
            },
            "hub.topic: not a feed",
        ),
        (
            {
                "mode": "subscribe",
                "topic": "http://localhost/championships/nope/news.atom",
                "callback": "http://127.0.0.1:9/",
            },
            "hub.topic: the feed answers 404",
        ),
        ({"mode": "subscribe", "topic": TOPIC}, "hub.callback: missing"),
        (
            {"mode": "subscribe", "topic": TOPIC, "callback": "http://169.254.169.254/"},
            "link-local",
        ),
        ({"mode": "subscribe", "topic": TOPIC, "callback": "gopher://127.0.0.1/"}, "http://"),
        (
            {
                "mode": "subscribe",
                "topic": TOPIC,
                "callback": "http://127.0.0.1:9/",
                "lease_seconds": "soon",
            },
            "hub.lease_seconds",
        ),
        (
            {
                "mode": "subscribe",
                "topic": TOPIC,
                "callback": "http://127.0.0.1:9/",
                "secret": "x" * 200,
            },
            "hub.secret",
        ),
    ],
)
def test_bad_requests_are_400_naming_the_parameter(client, params, reason) -> None:
    response = _hub(client, **params)
    assert response.status_code == 400
    assert response.content_type.startswith("text/plain")
    assert reason in response.get_data(as_text=True)


def test_loopback_callbacks_are_refused_outside_development(db_path: Path) -> None:
    app = notify_app(db_path, ALLOW_LOOPBACK_TARGETS=False)
    response = _hub(
        app.test_client(), mode="subscribe", topic=TOPIC, callback="http://127.0.0.1:9/"
    )
    assert response.status_code == 400 and b"loopback" in response.data


def test_a_secret_over_plain_http_is_ignored_as_websub_requires(db_path: Path) -> None:
    app = notify_app(db_path, WEBSUB_ACCEPT_SECRET_OVER_HTTP=False)
    client, token = app.test_client(), new_token(app)
    with receiving() as receiver:
        response = _hub(client, mode="subscribe", topic=TOPIC, callback=receiver.url, secret="abc")
        assert response.status_code == 202 and b"hub.secret was ignored" in response.data
        with running_worker(app):
            wait_for(lambda: receiver.gets())
            time.sleep(0.2)
        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="12:00")
        with running_worker(app):
            wait_for(lambda: receiver.posts())
        assert "x-hub-signature" not in receiver.posts()[0].headers


def test_form_encoding_is_required(client) -> None:
    response = client.post("/websub", json={"hub.mode": "subscribe"})
    assert response.status_code == 415


def test_a_secret_is_accepted_over_https_behind_a_trusted_proxy(db_path: Path) -> None:
    app = notify_app(db_path, WEBSUB_ACCEPT_SECRET_OVER_HTTP=False, TRUSTED_PROXY_HOPS=1)
    client = app.test_client()
    with receiving() as receiver:
        response = client.post(
            "/websub",
            data={
                "hub.mode": "subscribe",
                "hub.topic": "https://localhost/news.atom",
                "hub.callback": receiver.url,
                "hub.secret": "abc",
            },
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        )
    assert response.status_code == 202, response.data
    assert b"ignored" not in response.data


def test_a_repeated_request_is_verified_once(app, client) -> None:
    with receiving() as receiver:
        for _ in range(3):
            response = _hub(client, mode="subscribe", topic=TOPIC, callback=receiver.url)
            assert response.status_code == 202
        assert b"being verified already" in response.data
        with running_worker(app) as worker:
            wait_for(lambda: receiver.gets(), what="the verification GET")
            time.sleep(0.2)
            assert worker.run_once() == 0
        assert len(receiver.gets()) == 1


def test_a_callback_that_fails_verification_is_told_denied(app, client) -> None:
    # WebSub §5.2: the hub tells the subscriber that its subscription was not made.
    with receiving(echo_challenge=False) as receiver:
        _subscribed(app, client, receiver)
        modes = [get.query["hub.mode"] for get in receiver.gets()]
        assert modes == [["subscribe"], ["denied"]], modes
        denied = receiver.gets()[1].query
        assert denied["hub.topic"] == [TOPIC]
        assert "challenge" in denied["hub.reason"][0]
        drain(app)
        assert len(receiver.gets()) == 2  # told once, not retried
