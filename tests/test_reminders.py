"""session.starting_soon: due N minutes before each timed session, sent once per session and
subscription (several workers, restarts), moved with its session, never for a cancelled one.

The weekend is created through the API around the real current time, so the real worker and
clock decide what is due."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

from service.notify.worker import Worker

from .notify_helpers import auth, new_token, notify_app, patch_session, subscribe
from .receivers import receiving

CUP = "/api/v1/championships/reminder-cup"
PARIS = ZoneInfo("Europe/Paris")


def _local_in(minutes: int) -> dt.datetime:
    """A Paris wall time ``minutes`` from now, on a whole minute after it."""
    moment = dt.datetime.now(PARIS) + dt.timedelta(minutes=minutes, seconds=60)
    return moment.replace(second=0, microsecond=0)


def _create_weekend(client, token: str) -> None:
    today = dt.datetime.now(PARIS).date()
    for url, body in [
        (
            "/api/v1/championships",
            {
                "slug": "reminder-cup",
                "name": "Reminder Cup",
                "series": "Reminder Cup",
                "season": today.year,
            },
        ),
        (
            f"{CUP}/rounds",
            {
                "number": 1,
                "circuit": "paul-ricard",
                "start_date": str(today - dt.timedelta(days=1)),
                "end_date": str(today + dt.timedelta(days=2)),
            },
        ),
    ]:
        response = client.post(url, json=body, headers=auth(token))
        assert response.status_code == 201, response.json
    for slug, minutes, status in [
        ("race", 20, "scheduled"),
        ("called-off", 15, "cancelled"),
        ("later", 90, "scheduled"),
    ]:
        start = _local_in(minutes)
        body = {
            "slug": slug,
            "name": slug.title(),
            "kind": "race",
            "status": status,
            "local_date": str(start.date()),
            "local_time": start.strftime("%H:%M"),
        }
        response = client.post(f"{CUP}/rounds/1/sessions", json=body, headers=auth(token))
        assert response.status_code == 201, response.json


def _reminders(receiver) -> list[dict]:
    return [json.loads(p.body) for p in receiver.posts()]


def test_a_reminder_fires_once_and_moves_with_its_session(db_path: Path) -> None:
    app = notify_app(db_path)
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
        )
        # Two workers plan and deliver at the same moment: one reminder, not two.
        workers = [Worker(app), Worker(app)]
        threads = [threading.Thread(target=w.run_once) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        for worker in workers:
            worker.run_once()
        # A restart: a new app and worker on the same database plan nothing new.
        Worker(notify_app(db_path)).run_once()
        (first,) = _reminders(receiver)
        assert first["type"] == "session.starting_soon"
        assert first["data"]["session"]["slug"] == "race"
        assert first["data"]["minutes_before"] == 30
        planned = first["data"]["session"]["start_utc"]

        # Moved five minutes later, still inside the lead time: a reminder for the new time.
        moved = _local_in(25)
        patch_session(
            client,
            token,
            f"{CUP}/rounds/1/sessions/race",
            local_date=str(moved.date()),
            local_time=moved.strftime("%H:%M"),
        )
        Worker(app).run_once()
        Worker(app).run_once()
        reminders = _reminders(receiver)
    assert len(reminders) == 2
    assert reminders[1]["data"]["session"]["start_utc"] != planned
    assert reminders[1]["data"]["session"]["start_utc"] == (
        moved.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    # Never for the cancelled session, and not yet for the one 90 minutes away.
    assert {r["data"]["session"]["slug"] for r in reminders} == {"race"}


def test_a_reminder_planned_before_a_cancellation_is_not_sent(db_path: Path) -> None:
    app = notify_app(db_path)
    client, token = app.test_client(), new_token(app)
    _create_weekend(client, token)
    with receiving() as receiver:
        sub = subscribe(
            client, token, receiver.url, ["session.starting_soon"], championship="reminder-cup"
        )
        from service.notify import reminders

        # Planned (queued) but not yet sent when the session is cancelled.
        assert reminders.plan_reminders(app, dt.datetime.now(dt.UTC)) == 1
        patch_session(client, token, f"{CUP}/rounds/1/sessions/race", status="cancelled")
        Worker(app).run_once()
        assert receiver.posts() == []
    (logged,) = client.get(sub["deliveries"], headers=auth(token)).json["items"]
    assert logged["status"] == "skipped"
    assert logged["last_error"] == "the session is cancelled"
