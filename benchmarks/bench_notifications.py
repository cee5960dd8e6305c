"""Benchmark notifications: what the outbox adds to a write, and delivery throughput.

    python benchmarks/bench_notifications.py [--repeat 9] [--deliveries 400]

1. Write cost: one session time change through the write path, with 0, 100 and 1,000
   webhook subscriptions that all want it (each gets an outbox row in the transaction).
2. Delivery: ``--deliveries`` queued webhooks sent by the real worker (8 threads) to a
   receiver on loopback that answers at once, and to one that takes 50 ms per request.
Medians, with the interquartile range as the spread. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, update

from service import create_app
from service.domain.models import Round, Session
from service.notify.models import Delivery, WebhookSubscription
from service.notify.signing import new_webhook_secret, seal
from service.notify.worker import Worker
from service.store.engine import get_store, write_session
from service.writes import write

ROOT = Path(__file__).resolve().parent.parent


def quartiles(samples: list[float]) -> tuple[float, float, float]:
    """Median and interquartile range."""
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return median, q1, q3


def receiver(delay: float) -> tuple[ThreadingHTTPServer, str]:
    """A loopback server answering 204 after ``delay`` seconds."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if delay:
                time.sleep(delay)
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def add_subscriptions(app, url: str, count: int) -> None:
    """Replace every subscription with ``count`` that all want session.changed, and drop
    what earlier runs left queued."""
    now = dt.datetime.now(dt.UTC)
    sealed = seal(app.config, new_webhook_secret())
    with write_session(app) as session:
        for sub in session.scalars(select(WebhookSubscription)):
            sub.enabled = False
        session.execute(
            update(Delivery)
            .where(Delivery.status.in_(("pending", "delivering")))
            .values(status="skipped")
        )
        session.add_all(
            WebhookSubscription(
                public_id=f"wh_bench_{secrets.token_hex(4)}_{i}",
                token_id="bench",
                url=url,
                event_types=["session.changed"],
                reminder_minutes=30,
                secret_encrypted=sealed,
                enabled=True,
                deleted=False,
                created_at=now,
                updated_at=now,
            )
            for i in range(count)
        )


def move_session(app, minute: int) -> None:
    """One schedule change through the write path."""
    with write(app, actor="bench") as w:
        found = w.session.scalar(select(Session).join(Round).where(Session.slug == "race-1"))
        w.upsert_session(
            found.round,
            found.slug,
            {
                "name": found.name,
                "kind": found.kind,
                "local_date": found.local_date,
                "local_time": dt.time(12, minute % 60),
                "duration_minutes": found.duration_minutes,
            },
        )


def pending(app) -> int:
    with get_store(app).sessions() as session:
        return session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status.in_(("pending", "delivering")))
        )


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--deliveries", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "DATA_DIR": str(ROOT / "data"),
                "ALLOW_LOOPBACK_TARGETS": True,
                "RUN_WORKER_IN_PROCESS": "0",
                "WORKER_POLL_SECONDS": 0.01,
            }
        )
        server, url = receiver(0.0)
        print(f"{args.repeat} runs each; median (interquartile range)\n")
        print("| write with N subscriptions | ms per write |")
        print("| ---: | ---: |")
        minute = 0
        for count in (0, 100, 1000):
            add_subscriptions(app, url, count)
            samples = []
            for _ in range(args.repeat):
                minute += 1
                samples.append(timed(lambda m=minute: move_session(app, m)) * 1000)
            median, q1, q3 = quartiles(samples)
            print(f"| {count} | {median:.1f} ({q1:.1f}–{q3:.1f}) |")
        server.shutdown()

        print("\n| receiver | deliveries/s (8 threads) |")
        print("| --- | ---: |")
        for label, delay in (("answers at once", 0.0), ("50 ms per request", 0.05)):
            server, url = receiver(delay)
            add_subscriptions(app, url, args.deliveries)
            rates = []
            for _ in range(max(3, args.repeat // 3)):
                minute += 1
                move_session(app, minute)
                stop = threading.Event()
                worker = Worker(app, threads=8)
                thread = threading.Thread(target=worker.run, args=(stop,))
                start = time.perf_counter()
                thread.start()
                while pending(app):
                    time.sleep(0.01)
                rates.append(args.deliveries / (time.perf_counter() - start))
                stop.set()
                thread.join()
            median, q1, q3 = quartiles(rates)
            print(f"| {label} | {median:.0f} ({q1:.0f}–{q3:.0f}) |")
            server.shutdown()


if __name__ == "__main__":
    main()
