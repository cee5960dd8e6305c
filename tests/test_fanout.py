"""Notification fan-out in the worker: a write records one outbox row per announced change,
and the worker expands it into one delivery per matching subscription, once; subscriptions
made after the write do not receive it. Deliveries are checked through the API's delivery
log and on real loopback receivers, signatures with ``standardwebhooks``."""

from __future__ import annotations

import json
from contextlib import ExitStack

from standardwebhooks.webhooks import Webhook

from .notify_helpers import (
    ADAC,
    FAST,
    GT4,
    ROUND_2,
    delivery_log,
    drain,
    patch_session,
    subscribe,
)
from .receivers import receiving

APP_CONFIG = FAST  # loopback receivers, fast retries
RACE_1 = f"{ROUND_2}/sessions/race-1"


def _local_times(client, token, sub: dict) -> list[str]:
    """The new local times a subscription's deliveries announce, oldest first."""
    return [
        d["payload"]["data"]["session"]["local_time"]
        for d in reversed(delivery_log(client, token, sub))
    ]


def test_a_write_reaches_every_matching_subscription_once_the_worker_ran(
    app, client, token
) -> None:
    with ExitStack() as stack:
        matching = [stack.enter_context(receiving()) for _ in range(4)]
        other_type, other_championship = (stack.enter_context(receiving()) for _ in range(2))
        subs = [subscribe(client, token, r.url, ["session.changed"]) for r in matching[:2]]
        subs.append(subscribe(client, token, matching[2].url, ["session.changed"], format="slack"))
        subs.append(
            subscribe(client, token, matching[3].url, ["session.changed"], championship=GT4)
        )
        unwanted = [
            subscribe(client, token, other_type.url, ["results.published"]),
            subscribe(
                client, token, other_championship.url, ["session.changed"], championship=ADAC
            ),
        ]
        patch_session(client, token, RACE_1, local_time="14:05")
        # The write returned without queueing one delivery per subscription ...
        assert all(delivery_log(client, token, s) == [] for s in subs + unwanted)
        drain(app)  # ... the worker expanded the change, then sent what it queued.
        drain(app)  # a second run finds nothing more to expand or send
        for sub, receiver in zip(subs, matching, strict=True):
            (logged,) = delivery_log(client, token, sub)
            assert logged["status"] == "delivered"
            (post,) = receiver.posts()
            assert post.headers["webhook-id"] == logged["id"]
            Webhook(sub["secret"]).verify(post.body, post.headers)
        for receiver in matching[:2] + matching[3:]:
            body = json.loads(receiver.posts()[0].body)
            assert body["type"] == "session.changed"
            assert body["data"]["session"]["local_time"] == "14:05"
        slack = json.loads(matching[2].posts()[0].body)
        assert "14:05" in slack["text"]
        assert all(delivery_log(client, token, s) == [] for s in unwanted)
        assert other_type.posts() == [] and other_championship.posts() == []
        ids = {r.posts()[0].headers["webhook-id"] for r in matching}
        assert len(ids) == len(matching)


def test_a_subscription_made_after_a_write_does_not_receive_it(app, client, token) -> None:
    with receiving() as early, receiving() as late:
        first = subscribe(client, token, early.url, ["session.changed"])
        patch_session(client, token, RACE_1, local_time="14:10")
        second = subscribe(client, token, late.url, ["session.changed"])
        drain(app)  # the worker expands after the late subscription exists
        assert _local_times(client, token, first) == ["14:10"]
        assert delivery_log(client, token, second) == [] and late.posts() == []
        # A write after it was made reaches it.
        patch_session(client, token, RACE_1, local_time="14:20")
        drain(app)
        assert _local_times(client, token, first) == ["14:10", "14:20"]
        assert _local_times(client, token, second) == ["14:20"]
        assert len(late.posts()) == 1 and len(early.posts()) == 2


def test_payloads_describe_the_store_as_each_write_left_it(app, client, token) -> None:
    """Expanded after later writes, each delivery still carries its own change's state, in
    the order of the changes."""
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        times = ["15:00", "15:10", "15:20", "15:30"]
        for local_time in times:
            patch_session(client, token, RACE_1, local_time=local_time)
        drain(app)
        assert _local_times(client, token, sub) == times
        previous = [
            d["payload"]["data"]["previous"]["local_time"]
            for d in reversed(delivery_log(client, token, sub))
        ]
        assert previous[1:] == times[:-1]
        assert len(receiver.posts()) == len(times)
