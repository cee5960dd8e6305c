"""The worker: publishes the feeds changes affect, expands the fan-out outbox into deliveries,
plans reminders, claims due deliveries and sends them on a thread pool.

``flask --app service worker`` runs it (Procfile ``worker:``). Any number may run at once:
claims are leases on rows (see ``queue.claim``), so no delivery is sent by two workers, and
one whose worker is killed is claimed again when its lease runs out, with the same message id.
SIGTERM (or Ctrl-C) stops claiming, lets the deliveries in flight finish, and exits.

On the embedded default (SQLite) the web process runs one in a background thread, started by
its first request, so that ``flask run`` alone is a working service.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..config import parse_bool
from ..publish import new_year, publisher
from ..stats import daily as stats_daily
from ..writes import utc_now
from . import fanout, queue, reminders
from .delivery import load_job, perform

log = logging.getLogger("gridfeed.worker")
IN_PROCESS_EXTENSION = "gridfeed.in_process_worker"


# app.extensions key: callables (app, now) the worker runs with its own housekeeping.
HOUSEKEEPING = "gridfeed.housekeeping"


def new_worker_id() -> str:
    """A name for this worker in claims and logs: host, process and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Delivers the outbox of one app."""

    def __init__(
        self,
        app: Flask,
        threads: int | None = None,
        worker_id: str | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.app = app
        self.threads = threads or app.config["WORKER_THREADS"]
        self.worker_id = worker_id or new_worker_id()
        self.clock = clock

    def housekeeping(self) -> None:
        """Plan due reminders, retire expired WebSub leases, forget old delivery logs; write
        this process's feed counts and close past counting days; at New Year, queue the series
        calendars (they show the current and next season)."""
        now = self.clock()
        new_year.queue_series_for_year(self.app, now)
        reminders.plan_reminders(self.app, now)
        queue.expire_websub_leases(self.app, now)
        queue.purge_finished(self.app, now)
        stats_daily.flush(self.app, now.date())
        stats_daily.close_days(self.app, now.date())
        # Chores of higher layers (the API's idempotency records), registered by them.
        for chore in self.app.extensions.get(HOUSEKEEPING, ()):
            chore(self.app, now)

    def process(self, delivery_id: int) -> str:
        """Send one claimed delivery and record how it went; return its new status."""
        job = load_job(self.app, delivery_id)
        if job is None:
            return "missing"
        try:
            outcome = perform(self.app, job, self.clock())
        except Exception as exc:  # a bug must not lose the delivery: it is retried
            log.exception("delivery %s failed inside gridfeed", job.message_id)
            outcome = queue.Outcome(ok=False, error=f"internal error: {type(exc).__name__}")
        status = queue.finish(self.app, delivery_id, self.worker_id, outcome, self.clock())
        log.info(
            "%s %s %s: %s%s",
            job.channel,
            job.event_type,
            job.message_id,
            status,
            f" ({outcome.reason})" if outcome.reason else "",
        )
        return status

    def publish(self) -> int:
        """Publish the feeds waiting changes affect (before their WebSub content goes out)."""
        return publisher.drain(self.app, self.worker_id, now=self.clock())

    def fan_out(self) -> int:
        """Expand the changes waiting in the fan-out outbox into webhook deliveries."""
        return fanout.expand_all(self.app)

    def run_once(self) -> int:
        """Plan, publish, fan out, then claim and send everything due now, one batch (the
        order of ``run``); return how many deliveries."""
        self.housekeeping()
        self.publish()
        self.fan_out()
        ids = queue.claim(self.app, self.worker_id, self.threads, self.clock())
        with ThreadPoolExecutor(max_workers=max(1, len(ids))) as pool:
            list(pool.map(self.process, ids))
        return len(ids)

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set, then finish what is in flight."""
        poll = self.app.config["WORKER_POLL_SECONDS"]
        plan_every = self.app.config["WORKER_PLAN_SECONDS"]
        inflight: set[Future[str]] = set()
        last_plan = float("-inf")
        log.info("worker %s started with %d threads", self.worker_id, self.threads)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="gridfeed-delivery") as pool:
            while not stop.is_set():
                try:
                    if time.monotonic() - last_plan >= plan_every:
                        self.housekeeping()
                        last_plan = time.monotonic()
                    published = publisher.run_pending(self.app, self.worker_id, now=self.clock())
                    expanded = fanout.expand(self.app)
                    inflight = {f for f in inflight if not f.done()}
                    free = self.threads - len(inflight)
                    ids = queue.claim(self.app, self.worker_id, free, self.clock())
                except Exception:  # the database may be briefly away: keep going
                    log.exception("worker %s: claiming failed; retrying", self.worker_id)
                    stop.wait(poll)
                    continue
                inflight.update(pool.submit(self.process, i) for i in ids)
                if len(inflight) >= self.threads:
                    wait(inflight, timeout=poll, return_when=FIRST_COMPLETED)
                elif not ids and not published and not expanded:
                    stop.wait(poll)
            if inflight:
                log.info("worker %s stopping: %d in flight", self.worker_id, len(inflight))
        log.info("worker %s stopped", self.worker_id)


def wants_in_process_worker(app: Flask) -> bool:
    """Whether the web process should deliver too (``RUN_WORKER_IN_PROCESS``)."""
    setting = str(app.config["RUN_WORKER_IN_PROCESS"]).strip().lower()
    if setting == "auto":
        return app.config["DATABASE_URL"].startswith("sqlite") and not app.testing
    return parse_bool(setting)


def _start_in_process() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions[IN_PROCESS_EXTENSION]
    if state["started"]:
        return
    with state["lock"]:
        if state["started"]:
            return
        state["started"] = True
        worker = Worker(app)
        thread = threading.Thread(
            target=worker.run, args=(state["stop"],), name="gridfeed-worker", daemon=True
        )
        thread.start()


def init_app(app: Flask) -> None:
    """Register ``flask worker``, and the in-process worker where configured."""
    app.cli.add_command(worker_command)
    if wants_in_process_worker(app):
        # Started by the first request, in the process that serves: never in the reloader's
        # parent, in CLI commands, or in a gunicorn master before it forks.
        # "stop" ends the thread (tests; a process that exits just drops it: leases cover it).
        app.extensions[IN_PROCESS_EXTENSION] = {
            "started": False,
            "lock": threading.Lock(),
            "stop": threading.Event(),
        }
        app.before_request(_start_in_process)


@click.command("worker")
@with_appcontext
@click.option("--threads", type=int, default=None, help="Deliveries sent at once (default 8).")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
def worker_command(threads: int | None, once: bool) -> None:
    """Deliver webhooks, WebSub content and reminders until SIGTERM."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    worker = Worker(app, threads=threads)
    if once:
        click.echo(f"sent {worker.run_once()} deliveries")
        return
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info(
            "worker %s got signal %d: finishing deliveries in flight", worker.worker_id, signum
        )
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run(stop)
