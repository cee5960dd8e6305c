"""Chat-ready webhooks: Discord and Slack bodies checked against their documented shapes and
limits, the sentence the news feed writes, the test ping, and rate limits (429) honoured.

Everything goes through the API, the real worker and real loopback receivers; the news feed
is read with feedparser to get the sentence a person already sees there."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import feedparser
from standardwebhooks.webhooks import Webhook

from .notify_helpers import (
    FAST,
    GT4,
    ROUND_2,
    auth,
    delivery_log,
    newest_delivery,
    patch_session,
    running_worker,
    subscribe,
)
from .receivers import receiving, wait_for

APP_CONFIG = {**FAST, "PUBLIC_BASE_URL": "https://gridfeed.test"}
RACE_1 = f"{ROUND_2}/sessions/race-1"
RACE_2 = f"{ROUND_2}/sessions/race-2"

# Discord: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
DISCORD_KEYS = {"content", "username", "avatar_url", "tts", "embeds", "allowed_mentions"}
EMBED_KEYS = {"title", "type", "description", "url", "timestamp", "color", "footer", "fields"}
# Slack: https://api.slack.com/reference/block-kit/blocks
SLACK_BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image"}


def check_discord(body: dict[str, Any]) -> dict[str, Any]:
    """Fail unless ``body`` is a Discord execute-webhook body within the limits; the embed."""
    assert set(body) <= DISCORD_KEYS, set(body) - DISCORD_KEYS
    assert isinstance(body["content"], str) and 0 < len(body["content"]) <= 2000
    assert len(body.get("username", "")) <= 80
    assert body["allowed_mentions"] == {"parse": []}
    assert 1 <= len(body["embeds"]) <= 10
    total = 0
    for embed in body["embeds"]:
        assert set(embed) <= EMBED_KEYS
        assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
        assert len(embed["footer"]["text"]) <= 2048
        assert isinstance(embed["color"], int) and 0 <= embed["color"] <= 0xFFFFFF
        dt.datetime.fromisoformat(embed["timestamp"])  # ISO 8601
        total += len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    assert total <= 6000
    return body["embeds"][0]


def check_slack(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Fail unless ``body`` is a Slack incoming-webhook body within the limits; its blocks."""
    assert isinstance(body["text"], str) and 0 < len(body["text"]) <= 4000
    blocks = body["blocks"]
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        assert block["type"] in SLACK_BLOCK_TYPES
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
    return blocks


def news_titles(client) -> list[str]:
    """The entry titles of the championship's news feed, read with feedparser."""
    parsed = feedparser.parse(client.get(f"/championships/{GT4}/news.atom").data)
    return [entry.title for entry in parsed.entries]


def deliver_one(app, receiver) -> Any:
    with running_worker(app):
        wait_for(lambda: receiver.posts(), what="the chat message")
    (seen,) = receiver.posts()
    return seen


def test_discord_gets_the_news_feeds_sentence_in_content_and_embed(app, client, token) -> None:
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"], format="discord")
        assert sub["format"] == "discord"
        patch_session(client, token, RACE_1, local_time="14:00", duration_minutes=60)
        seen = deliver_one(app, receiver)
    body = Webhook(sub["secret"]).verify(seen.body, seen.headers)  # still signed
    embed = check_discord(body)
    sentence = "Circuit Paul Ricard, Race 1 time set: Sat 3 June 14:00 CEST (12:00 UTC)"
    assert sentence in news_titles(client)  # the same words as the news feed
    assert body["content"] == embed["description"] == sentence
    assert embed["title"] == "GT4 European Series 2023"
    assert embed["url"] == f"https://gridfeed.test/championships/{GT4}/rounds/2#race-1"


def test_slack_gets_text_and_blocks_with_a_link(app, client, token) -> None:
    with receiving() as receiver:
        subscribe(client, token, receiver.url, ["session.cancelled"], format="slack")
        patch_session(client, token, RACE_2, status="cancelled")
        seen = deliver_one(app, receiver)
    body = json.loads(seen.body)
    header, section, context = check_slack(body)
    sentence = "Circuit Paul Ricard, Race 2 cancelled"
    assert sentence in news_titles(client)
    assert body["text"] == sentence
    assert header["text"]["text"] == "GT4 European Series 2023"
    link = f"<https://gridfeed.test/championships/{GT4}/rounds/2#race-2|Details>"
    assert section["text"]["text"] == f"{sentence}\n{link}"
    assert "gridfeed" in context["elements"][0]["text"]


def test_a_huge_article_stays_within_discord_and_slack_limits(app, client, token) -> None:
    title = "Très long <titre> & " + "x" * 9000
    article = {
        "slug": "a-very-long-story",
        "title": title,
        "summary": "@everyone " + "y" * 50_000,
        "body_markdown": "Body.",
        "championships": [GT4],
        "status": "published",
    }
    with receiving() as discord, receiving() as slack:
        subscribe(client, token, discord.url, ["article.published"], format="discord")
        subscribe(client, token, slack.url, ["article.published"], format="slack")
        response = client.post("/api/v1/articles", json=article, headers=auth(token))
        assert response.status_code == 201, response.json
        with running_worker(app):
            wait_for(lambda: discord.posts() and slack.posts(), what="both chat messages")
        discord_body = json.loads(discord.posts()[0].body)
        slack_body = json.loads(slack.posts()[0].body)
    embed = check_discord(discord_body)
    assert embed["title"].startswith("Très long <titre> & x") and embed["title"].endswith("…")
    assert discord_body["content"].endswith("…")
    blocks = check_slack(slack_body)
    assert blocks[0]["text"]["text"].endswith("…")
    # Slack's control characters are escaped in mrkdwn; plain_text is shown as is.
    assert blocks[0]["text"]["text"].startswith("Très long <titre> & ")
    assert slack_body["text"].startswith("@everyone yyy")


def test_the_test_endpoint_sends_a_signed_ping(app, client, token) -> None:
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["results.published"])
        response = client.post(f"{sub['href']}/test", headers=auth(token))
        assert response.status_code == 202, response.json
        assert response.json["event_type"] == "ping"
        seen = deliver_one(app, receiver)
    payload = Webhook(sub["secret"]).verify(seen.body, seen.headers)
    assert payload["type"] == "ping"
    assert payload["data"]["webhook"] == sub["id"]
    assert delivery_log(client, token, sub)[0]["status"] == "delivered"


def test_the_test_endpoint_is_the_owners_only(app, client, token) -> None:
    from .notify_helpers import new_token

    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["results.published"])
    other = new_token(app, name="other")
    assert client.post(f"{sub['href']}/test", headers=auth(other)).status_code == 404
    assert client.post(f"{sub['href']}/test").status_code == 401


def _rate_limited_then_delivered(app, client, token, sub, receiver) -> list[dict]:
    patch_session(client, token, RACE_2, status="cancelled")
    with running_worker(app):
        wait_for(lambda: len(receiver.posts()) == 2, timeout=20, what="the retry")
        wait_for(lambda: newest_delivery(client, token, sub).get("status") == "delivered")
    (delivery,) = delivery_log(client, token, sub)
    return delivery["log"]


def _seconds_between(log: list[dict]) -> float:
    first, second = (dt.datetime.fromisoformat(a["at"]) for a in log)
    return (second - first).total_seconds()


def test_a_slack_429_retry_after_header_is_waited_for(app, client, token) -> None:
    behaviour = {"statuses": [429], "refusal_headers": {"Retry-After": "2"}}
    with receiving(**behaviour) as receiver:
        sub = subscribe(client, token, receiver.url, ["session.cancelled"], format="slack")
        log = _rate_limited_then_delivered(app, client, token, sub, receiver)
    assert [a["outcome"] for a in log] == ["rate_limited", "delivered"]
    assert log[0]["status_code"] == 429
    # The fast test schedule would retry after 0.05 s: the 2 s asked for were honoured.
    assert _seconds_between(log) >= 1.9
    current = client.get(sub["href"], headers=auth(token)).json
    assert current["enabled"] and current["failing_since"] is None


def test_a_discord_429_retry_after_body_is_waited_for(app, client, token) -> None:
    behaviour = {"statuses": [429], "refusal_body": b'{"message": "slow down", "retry_after": 1.5}'}
    with receiving(**behaviour) as receiver:
        sub = subscribe(client, token, receiver.url, ["session.cancelled"], format="discord")
        log = _rate_limited_then_delivered(app, client, token, sub, receiver)
    assert [a["outcome"] for a in log] == ["rate_limited", "delivered"]
    assert _seconds_between(log) >= 1.4


def test_format_is_validated_editable_and_chat_urls_follow_the_ssrf_rules(
    app, client, token
) -> None:
    body = {"url": "https://example.com/hook", "event_types": ["results.published"]}
    body["format"] = "teams"
    response = client.post("/api/v1/webhooks", json=body, headers=auth(token))
    assert response.status_code == 422
    assert "format" in json.dumps(response.json)
    private = {"url": "http://10.0.0.7/api/webhooks/1/x", "event_types": ["results.published"]}
    response = client.post(
        "/api/v1/webhooks", json={**private, "format": "discord"}, headers=auth(token)
    )
    assert response.status_code in {400, 422}
    assert "private" in json.dumps(response.json)
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["results.published"])
    etag = client.get(sub["href"], headers=auth(token)).headers["ETag"]
    response = client.patch(
        sub["href"], json={"format": "slack"}, headers=auth(token, **{"If-Match": etag})
    )
    assert response.status_code == 200 and response.json["format"] == "slack"


def test_a_reminder_reads_as_a_sentence_with_the_circuits_time(db_path) -> None:
    from .notify_helpers import new_token, notify_app
    from .test_reminders import PARIS, _create_weekend

    app = notify_app(db_path, PUBLIC_BASE_URL="https://gridfeed.test")
    client, token = app.test_client(), new_token(app)
    _create_weekend(client, token)
    with receiving() as receiver:
        subscribe(
            client,
            token,
            receiver.url,
            ["session.starting_soon"],
            championship="reminder-cup",
            reminder_minutes=30,
            format="slack",
        )
        with running_worker(app):
            wait_for(lambda: receiver.posts(), what="the reminder")
        (seen,) = receiver.posts()
    body = json.loads(seen.body)
    check_slack(body)
    race = client.get("/api/v1/championships/reminder-cup/rounds/1/sessions/race").json
    start = dt.datetime.fromisoformat(race["local_start"]).astimezone(PARIS)
    circuit = race["circuit"]["name"] if "circuit" in race else "Circuit Paul Ricard"
    assert body["text"] == f"Race at {circuit} starts in 30 minutes — {start:%H:%M %Z}"


def test_results_read_as_a_sentence_with_the_podium(app, client, token) -> None:
    sessions = f"/api/v1/championships/{GT4}/rounds/3/sessions"
    created = client.post(
        sessions,
        headers=auth(token),
        json={"slug": "race-1", "name": "Race 1", "kind": "race", "local_date": "2023-07-01"},
    )
    assert created.status_code == 201, created.json
    with receiving() as receiver:
        subscribe(client, token, receiver.url, ["results.published"], format="discord")
        published = client.put(
            f"{sessions}/race-1/results",
            headers=auth(token),
            json={"lines": [{"entry": "racing-one-backman", "position": 5}]},
        )
        assert published.status_code == 200, published.json
        seen = deliver_one(app, receiver)
    embed = check_discord(json.loads(seen.body))
    circuit = client.get(f"/api/v1/championships/{GT4}/rounds/3").json["name"]
    drivers = " / ".join(
        client.get(f"/api/v1/competitors/{slug}").json["name"]
        for slug in ("andreas-backman", "jessica-backman")
    )
    assert embed["description"] == f"{circuit}, Race 1 results: 5th {drivers}"
    assert embed["url"].endswith(f"/championships/{GT4}/rounds/3#race-1")
