"""Shared set-up for the notification tests: an app that may send to loopback with fast
retries, a worker running in a thread, and API helpers."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.notify.models import Delivery
from service.notify.worker import Worker
from service.store.engine import get_store

from .conftest import make_app, new_token

GT4 = "gt4-european-series-2023"
ADAC = "adac-gt4-germany-2023"
ROUND_2 = f"/api/v1/championships/{GT4}/rounds/2"
__all__ = ["new_token"]  # re-exported: the notification tests take it from here

FAST = {
    "ALLOW_LOOPBACK_TARGETS": True,
    "DELIVERY_RETRY_SCHEDULE": [0.05, 0.05, 0.05],
    "DELIVERY_READ_TIMEOUT": 3.0,
    "DELIVERY_CONNECT_TIMEOUT": 2.0,
    "WORKER_POLL_SECONDS": 0.02,
    "WORKER_PLAN_SECONDS": 0.1,
    "WEBSUB_ACCEPT_SECRET_OVER_HTTP": True,
}


def notify_app(db_path: Path, **overrides: Any) -> Flask:
    """An app on ``db_path`` set up for delivering to receivers on loopback."""
    return make_app(db_path, AUTO_SEED=False, **{**FAST, **overrides})


def auth(token: str, **extra: str) -> dict[str, str]:
    """Bearer headers."""
    return {"Authorization": f"Bearer {token}", **extra}


def subscribe(client: FlaskClient, token: str, url: str, events: list[str], **extra: Any) -> dict:
    """Create a webhook subscription; return the 201 body (with its secret)."""
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": events, **extra}, headers=auth(token)
    )
    assert response.status_code == 201, response.json
    return response.json


def patch_session(client: FlaskClient, token: str, path: str, **fields: Any):
    """PATCH a session with a fresh If-Match."""
    etag = client.get(path).headers["ETag"]
    response = client.patch(path, json=fields, headers=auth(token, **{"If-Match": etag}))
    assert response.status_code == 200, response.json
    return response


@contextmanager
def running_worker(
    app: Flask, threads: int = 4, clock: Callable[[], dt.datetime] | None = None
) -> Iterator[Worker]:
    """The real worker loop in a thread; stopped (finishing in-flight work) on exit."""
    worker = Worker(app, threads=threads, **({"clock": clock} if clock else {}))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "the worker did not stop"


def delivery_log(client: FlaskClient, token: str, sub: dict) -> list[dict]:
    """The subscription's deliveries, newest first, from the API."""
    response = client.get(sub["deliveries"], headers=auth(token))
    assert response.status_code == 200, response.json
    return response.json["items"]


def newest_delivery(client: FlaskClient, token: str, sub: dict) -> dict:
    """The subscription's newest delivery from the API; {} while the worker has not yet
    expanded the change into one (fan-out runs in the worker, after the write)."""
    deliveries = delivery_log(client, token, sub)
    return deliveries[0] if deliveries else {}


def drain(app: Flask) -> None:
    """Run the worker until nothing is due: every queued delivery has been attempted."""
    worker = Worker(app)
    while worker.run_once():
        pass


def websub_outcomes(app: Flask) -> list[str]:
    """How each WebSub content check ended, oldest first, from the delivery table."""
    with get_store(app).sessions() as session:
        deliveries = session.scalars(
            select(Delivery).where(Delivery.channel == "websub").order_by(Delivery.id)
        ).all()
        return [f"{d.status}: {d.last_error}" if d.last_error else d.status for d in deliveries]
