"""Rate limits (Flask-Limiter's storage): per client address and per callback host on the
WebSub hub, per token on API writes; each answered 429 with Retry-After, writing nothing."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import make_app, new_token

GT4 = "gt4-european-series-2023"
TOPIC = f"http://localhost/championships/{GT4}/news.atom"


def _public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]  # nothing is sent: the worker does not run in these tests


@pytest.fixture
def limited_app(db_path):
    return make_app(
        db_path,
        AUTO_SEED=False,
        DNS_RESOLVER=_public,
        RUN_WORKER_IN_PROCESS="0",
        RATE_LIMIT_WEBSUB_CLIENT="3/minute",
        RATE_LIMIT_WEBSUB_CALLBACK_HOST="2/minute",
        RATE_LIMIT_API_WRITES="2/minute",
    )


def _subscribe(client, callback: str, client_address: str):
    return client.post(
        "/websub",
        data={"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": callback},
        environ_base={"REMOTE_ADDR": client_address},
    )


def _retry_after(response) -> int:
    assert response.status_code == 429, response.data
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 60
    return seconds


def _queued(db_path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("select count(*) from deliveries").fetchone()[0]


def test_websub_requests_are_limited_per_client_address(limited_app, db_path) -> None:
    client = limited_app.test_client()
    for n in range(3):
        response = _subscribe(client, f"https://cb{n}.example.org/hook", "198.51.100.7")
        assert response.status_code == 202, response.data
    before = _queued(db_path)
    refused = _subscribe(client, "https://cb9.example.org/hook", "198.51.100.7")
    _retry_after(refused)
    assert "198.51.100.7" not in refused.get_data(as_text=True)
    assert _queued(db_path) == before  # no verification queued
    assert _subscribe(client, "https://cb9.example.org/hook", "198.51.100.8").status_code == 202


def test_websub_requests_are_limited_per_callback_host(limited_app, db_path) -> None:
    client = limited_app.test_client()
    for n in range(2):
        response = _subscribe(client, f"https://victim.example.org/hook/{n}", f"198.51.100.{n}")
        assert response.status_code == 202, response.data
    before = _queued(db_path)
    _retry_after(_subscribe(client, "https://victim.example.org/hook/9", "198.51.100.50"))
    assert _queued(db_path) == before
    assert _subscribe(client, "https://other.example.org/hook", "198.51.100.50").status_code == 202


def test_api_writes_are_limited_per_token(limited_app) -> None:
    client = limited_app.test_client()
    busy, quiet = new_token(limited_app, name="busy"), new_token(limited_app, name="quiet")

    def create(token: str, slug: str):
        return client.post(
            "/api/v1/articles",
            json={"slug": slug, "title": slug, "body_markdown": "x", "championships": [GT4]},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert create(busy, "one").status_code == 201
    assert create(busy, "two").status_code == 201
    refused = create(busy, "three")
    _retry_after(refused)
    assert refused.content_type == "application/problem+json"
    assert client.get("/api/v1/articles/three").status_code == 404
    assert create(quiet, "four").status_code == 201
