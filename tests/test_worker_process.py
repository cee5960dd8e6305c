"""The worker as operators run it: `flask --app service worker` in its own process, killed
with SIGKILL mid-delivery (nothing lost, same message id) and stopped with SIGTERM (the
delivery in flight finishes). Plus the in-process worker of the embedded default."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from service.notify.worker import IN_PROCESS_EXTENSION

from .conftest import REPO_ROOT
from .notify_helpers import (
    ROUND_2,
    delivery_log,
    new_token,
    newest_delivery,
    notify_app,
    patch_session,
    subscribe,
)
from .receivers import receiving, wait_for

SECRET_KEY = "worker-process-test-key-0123456789abcdef"


def _start_worker(db_path: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "GRIDFEED_AUTO_SEED": "0",
        "GRIDFEED_DOMAIN": "gridfeed.test",
        "GRIDFEED_ALLOW_LOOPBACK_TARGETS": "1",
        "GRIDFEED_WORKER_LEASE_SECONDS": "2",
        "GRIDFEED_WORKER_POLL_SECONDS": "0.05",
        "GRIDFEED_DELIVERY_READ_TIMEOUT": "30",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "service", "worker", "--threads", "2"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.kill()
    output, _ = process.communicate(timeout=30)
    return output


def test_a_worker_killed_mid_delivery_loses_nothing(db_path: Path) -> None:
    app = notify_app(db_path, SECRET_KEY=SECRET_KEY)
    client, token = app.test_client(), new_token(app)
    hold = threading.Event()
    with receiving(hold=hold) as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="14:00")
        first = _start_worker(db_path)
        try:
            wait_for(lambda: receiver.posts(), what="the first attempt")
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        finally:
            _stop(first)
        hold.set()  # the killed worker's request is answered into the void
        (in_flight,) = delivery_log(client, token, sub)
        assert in_flight["status"] == "delivering" and in_flight["attempts"] == 1

        second = _start_worker(db_path)
        try:
            # Once the dead worker's lease (2 s here) runs out, the delivery is claimed again.
            wait_for(lambda: len(receiver.posts()) == 2, what="the retry after the kill")
            wait_for(lambda: newest_delivery(client, token, sub).get("status") == "delivered")
        finally:
            output = _stop(second)
        posts = receiver.posts()
    assert posts[0].headers["webhook-id"] == posts[1].headers["webhook-id"] == in_flight["id"]
    for post in posts:
        assert Webhook(sub["secret"]).verify(post.body, post.headers)["type"] == "session.changed"
    (done,) = delivery_log(client, token, sub)
    assert done["attempts"] == 2 and done["log"][-1]["status_code"] == 200, output


def test_sigterm_finishes_the_delivery_in_flight(db_path: Path) -> None:
    app = notify_app(db_path, SECRET_KEY=SECRET_KEY)
    client, token = app.test_client(), new_token(app)
    with receiving(delay=1.5) as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="15:00")
        worker = _start_worker(db_path)
        try:
            wait_for(lambda: receiver.posts(), what="the delivery to start")
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(30) == 0
        finally:
            output = _stop(worker)
        (seen,) = receiver.posts()
    assert seen.answered == 200
    (done,) = delivery_log(client, token, sub)
    assert done["status"] == "delivered" and done["attempts"] == 1, output
    assert "finishing deliveries in flight" in output and "stopped" in output


def test_the_embedded_default_delivers_in_process(db_path: Path) -> None:
    app = notify_app(db_path, RUN_WORKER_IN_PROCESS="1")
    client, token = app.test_client(), new_token(app)
    with receiving() as receiver:
        subscribe(client, token, receiver.url, ["session.changed"])
        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="16:00")
        # No worker was started by hand: the first request started the in-process one.
        try:
            wait_for(lambda: receiver.posts(), what="the in-process delivery")
        finally:
            app.extensions[IN_PROCESS_EXTENSION]["stop"].set()
