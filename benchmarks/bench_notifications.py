"""Benchmark notifications: what fan-out adds to a write, and delivery throughput.

    python benchmarks/bench_notifications.py [--rounds 15] [--deliveries 400]
    python benchmarks/bench_notifications.py --source /path/to/a/checkout/of/main   # "before"

1. Write cost: one session time change through the write path on four databases (copies of
   one seeded database) with 0, 100, 1,000 and 5,000 webhook subscriptions that all want it.
   Each round writes once to each, in a rotating order (interleaved); the ratio is each
   write's time over the 0-subscription write of the same round (the anchor). Publishing is
   left to a worker (``PUBLISH_IN_PROCESS=0``), so the time is the write's own transaction.
2. Fan-out in the worker (where the code has it, ``service/notify/fanout.py``): the time to
   expand that write into its deliveries, measured after each write.
3. Delivery: ``--deliveries`` queued webhooks sent by the real worker (8 threads) to a
   receiver on loopback that answers at once, and to one that takes 50 ms per request.
``--source`` imports ``service`` from another checkout (the code on ``main``, for "before").
Medians, with the interquartile range as the spread. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _source() -> Path:
    """The checkout to import ``service`` from: ``--source`` if given, else this one."""
    if "--source" in sys.argv:
        return Path(sys.argv[sys.argv.index("--source") + 1]).resolve()
    return ROOT


sys.path.insert(0, str(_source()))

from sqlalchemy import func, select, update  # noqa: E402

from service import create_app  # noqa: E402
from service.domain.models import Round, Session  # noqa: E402
from service.notify.models import Delivery, WebhookSubscription  # noqa: E402
from service.notify.signing import new_webhook_secret, seal  # noqa: E402
from service.notify.worker import Worker  # noqa: E402
from service.store.engine import get_store, write_session  # noqa: E402
from service.writes import write  # noqa: E402

try:  # the code under test may predate fan-out in the worker
    from service.notify import fanout
except ImportError:
    fanout = None  # type: ignore[assignment]

COUNTS = (0, 100, 1000, 5000)


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


def delivered(app) -> int:
    """How many deliveries have been delivered."""
    with get_store(app).sessions() as session:
        return session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "delivered")
        )


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def make_app(path: Path):
    """An app on the SQLite file ``path`` that neither publishes nor delivers by itself."""
    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "DATA_DIR": str(ROOT / "data"),
            "ALLOW_LOOPBACK_TARGETS": True,
            "RUN_WORKER_IN_PROCESS": "0",
            "PUBLISH_IN_PROCESS": "0",
            "WORKER_POLL_SECONDS": 0.01,
        }
    )


def spread(samples: list[float], digits: int = 1) -> str:
    """``median (q1–q3)``."""
    median, q1, q3 = quartiles(samples)
    return f"{median:.{digits}f} ({q1:.{digits}f}–{q3:.{digits}f})"


def write_costs(apps: dict[int, object], rounds: int) -> None:
    """Interleaved writes on every app; print ms and ratios to the 0-subscription anchor."""
    times: dict[int, list[float]] = {count: [] for count in apps}
    ratios: dict[int, list[float]] = {count: [] for count in apps}
    expand: dict[int, list[float]] = {count: [] for count in apps}
    order = list(apps)
    for n in range(rounds):
        spent: dict[int, float] = {}
        for count in order[n % len(order) :] + order[: n % len(order)]:
            app = apps[count]
            spent[count] = timed(lambda a=app, m=n: move_session(a, m))
            if fanout is not None:
                expand[count].append(timed(lambda a=app: fanout.expand_all(a)) * 1000)
        for count, seconds in spent.items():
            times[count].append(seconds * 1000)
            ratios[count].append(seconds / spent[0])
    print(f"{rounds} interleaved rounds; median (interquartile range)\n")
    print("| subscriptions | write, ms | ratio to 0 subscriptions | worker fan-out, ms |")
    print("| ---: | ---: | ---: | ---: |")
    for count in apps:
        fanned = spread(expand[count]) if fanout is not None else "n/a (in the write)"
        print(f"| {count} | {spread(times[count])} | {spread(ratios[count], 2)}× | {fanned} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--source", default=str(ROOT), help="checkout to import service from")
    args = parser.parse_args()
    print(f"code under test: {_source()}")
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.sqlite3"
        make_app(template)  # migrated and seeded once
        server, url = receiver(0.0)
        apps = {}
        for count in COUNTS:
            path = Path(tmp) / f"subs-{count}.sqlite3"
            shutil.copy(template, path)
            apps[count] = make_app(path)
            add_subscriptions(apps[count], url, count)
        write_costs(apps, args.rounds)
        server.shutdown()

        app = apps[0]
        print("\n| receiver | deliveries/s (8 threads) |")
        print("| --- | ---: |")
        minute = 0
        for label, delay in (("answers at once", 0.0), ("50 ms per request", 0.05)):
            server, url = receiver(delay)
            add_subscriptions(app, url, args.deliveries)
            rates = []
            for _ in range(3):
                minute += 1
                target = delivered(app) + args.deliveries
                move_session(app, minute)
                worker = Worker(app, threads=8)
                worker.publish()  # the write's feeds: not part of delivering
                stop = threading.Event()
                thread = threading.Thread(target=worker.run, args=(stop,))
                start = time.perf_counter()
                thread.start()
                while delivered(app) < target:
                    time.sleep(0.01)
                rates.append(args.deliveries / (time.perf_counter() - start))
                stop.set()
                thread.join()
            print(f"| {label} | {spread(rates, 0)} |")
            server.shutdown()


if __name__ == "__main__":
    main()
