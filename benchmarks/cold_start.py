"""Server time per request from a cold start (issue 11: "no request takes over 1 s of server
time, cold start included"), a part of ``bench_serving.py`` (``--parts cold``).

A fresh copy of the synthetic data set as built (its writes' publish jobs queued, nothing
published), ``flask db upgrade``, and no ``flask publish``; then gunicorn as the Procfile runs
it, with its access log giving each request's server time (``%(M)s``, ms). Two bursts of
requests, each every default feed URL plus a few variants (``?alarm=30``, ``?include=race``,
``?tz=utc``), 16 at a time: the first as soon as gunicorn accepts connections, the second
while a write (PATCH of one session) is being published. Reported: server time (max, p99,
count over 1 s) from the access log, client time, status codes, and when gunicorn first
accepted a connection. Each burst is bounded in time; what it did not reach is reported.

Publisher ``web`` is the embedded default (the web process publishes everything at start,
before it listens, and after its own writes); ``worker`` is the Procfile's shape (a
``flask worker`` publishes; the web processes never publish everything at start).
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from benchmarks.postgres import fresh_database, timed_copy
from benchmarks.synthetic import cached_database
from tests.servers import free_port, stop, web_command

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "http://bench.gridfeed.example"
SERIES = "series-00-2025"
SESSION = f"/api/v1/championships/{SERIES}/rounds/1/sessions/race-1"
VARIANTS = ("?alarm=30", "?include=race", "?tz=utc")
CLIENTS = 16
# One access log line: server time in ms, status, request line.
ACCESS_FORMAT = 'cold %(M)s %(s)s "%(r)s"'
ACCESS_LINE = re.compile(r'^cold (\d+) (\d{3}) "(\S+) (\S+)')


def feed_paths(sqlite_file: Path) -> list[str]:
    """Every default feed's URL path, as the publisher lists them (no rendering)."""
    from service import create_app
    from service.publish import jobs
    from service.publish.publisher import specs_for_scope
    from service.store.engine import get_store

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{sqlite_file}",
            "AUTO_SEED": False,
            "AUTO_MIGRATE": False,
            "PUBLISH_IN_PROCESS": "0",
            "RUN_WORKER_IN_PROCESS": "0",
            "PUBLIC_BASE_URL": ORIGIN,
            "PUBLISH_DIR": "",
            "SECRET_KEY": "gridfeed-benchmark-only-" + "0123456789abcdef" * 2,
        }
    )
    with get_store(app).sessions() as session:
        paths = [spec.path for spec in specs_for_scope(session, jobs.EVERYTHING)]
    get_store(app).engine.dispose()
    return sorted(set(paths))


def variant_paths() -> list[str]:
    """The variants asked for: of the all-calendar, a championship's, a round's and a
    competitor's calendar."""
    calendars = (
        "/calendar.ics",
        f"/championships/{SERIES}/calendar.ics",
        f"/championships/{SERIES}/rounds/1.ics",
        "/competitors/driver-00/calendar.ics",
    )
    return [path + variant for path in calendars for variant in VARIANTS]


def wait_for_listen(port: int, process: subprocess.Popen, timeout: float) -> float:
    """Seconds until ``port`` accepts a connection (gunicorn binds after its preload)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not listen within {timeout:.0f} s")


def burst(base: str, paths: list[str], bound: float) -> dict:
    """GET every path (gzip accepted), ``CLIENTS`` at a time, until done or ``bound`` s
    passed; client seconds and status of each request made."""
    deadline = time.monotonic() + bound
    local = threading.local()

    def get(path: str) -> tuple[str, float, int] | None:
        if time.monotonic() > deadline:
            return None
        if not hasattr(local, "http"):
            local.http = requests.Session()
        started = time.monotonic()
        try:
            status = local.http.get(
                base + path, headers={"Accept-Encoding": "gzip"}, timeout=bound
            ).status_code
        except requests.RequestException:
            status = 0
        return path, time.monotonic() - started, status

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        done = [r for r in pool.map(get, paths) if r is not None]
    return {"done": done, "asked": len(paths), "seconds": time.monotonic() - started}


def server_times(log: Path, start: int, end: int | None = None) -> list[tuple[float, str, str]]:
    """(server seconds, status, path) of each access-log line between byte offsets."""
    text = log.read_bytes()[start:end].decode("utf-8", "replace")
    lines = []
    for line in text.splitlines():
        found = ACCESS_LINE.match(line)
        if found:
            ms, status, _method, path = found.groups()
            lines.append((int(ms) / 1000, status, path))
    return lines


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (inclusive method), or the one value."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def describe(name: str, result: dict, times: list[tuple[float, str, str]]) -> list[str]:
    """One table row: requests, statuses, server max/p99/over 1 s, client p99/max; return
    the reads over 1 s of server time, slowest first, as "path s"."""
    reads = [t for t in times if not t[2].startswith("/api/")]
    server = [t[0] for t in reads]
    client = [d[1] for d in result["done"]]
    statuses: dict[str, int] = {}
    for _path, _seconds, status in result["done"]:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    slowest = max(reads, default=(0.0, "", "-"))
    over = sum(1 for s in server if s > 1)
    codes = ", ".join(f"{code}: {count:,}" for code, count in sorted(statuses.items()))
    print(
        f"| {name} | {len(result['done']):,} of {result['asked']:,} in "
        f"{result['seconds']:.0f} s | {codes} "
        f"| {max(server, default=0):.3f} (`{slowest[2]}`) | {quantile(server, 0.99):.3f} "
        f"| {over} | {quantile(client, 0.99):.3f} | {max(client, default=0):.3f} |",
        flush=True,
    )
    return [f"`{path}` {seconds:.1f} s" for seconds, _, path in sorted(reads, reverse=True)
            if seconds > 1]  # fmt: skip


def report(
    scale: int,
    work: Path,
    server: str | None,
    gridfeed_env: Callable[[str, str, Path], dict[str, str]],
    flask_cli: Callable[..., str],
    bound: float,
    publisher: str,
    logs: Path,
) -> dict | None:
    """Measure and print the cold part at ``scale`` (on PostgreSQL when ``server`` is set).

    With the web publisher, gunicorn published everything at its start: return what the
    other parts can serve from instead of a release step of their own (the environment, the
    SQLite file and the seconds until gunicorn listened); otherwise None."""
    work.mkdir(parents=True)
    db = cached_database(work / "cold.sqlite3", scale)
    paths = feed_paths(db)
    variants = variant_paths()
    env = gridfeed_env(f"sqlite:///{db}", ORIGIN, work / "published")
    # The release step without its publish: `flask db upgrade` must not publish either (on
    # SQLite every command's app would publish everything at its start).
    cli_env = {**env, "GRIDFEED_PUBLISH_IN_PROCESS": "0"}
    copied = ""
    if server:
        url = fresh_database(server, f"gridfeed_cold_x{scale}")
        env, cli_env = {**env, "DATABASE_URL": url}, {**cli_env, "DATABASE_URL": url}
    started = time.monotonic()
    flask_cli(cli_env, "db", "upgrade")
    upgraded = time.monotonic() - started
    if server:
        rows, seconds = timed_copy(db, env["DATABASE_URL"])
        copied = f", {rows:,} rows copied into PostgreSQL in {seconds:.1f} s"
    token = flask_cli(cli_env, "tokens", "create", "bench").strip().splitlines()[-1]
    env = {**env, "GRIDFEED_PUBLISH_IN_PROCESS": "1" if publisher == "web" else "0"}
    port = free_port()
    command = web_command(port)
    command[-1:-1] = ["--access-logformat", ACCESS_FORMAT]
    log = logs / f"cold-x{scale}-{publisher}-gunicorn.log"
    worker_log = logs / f"cold-x{scale}-flask-worker.log"
    who = (
        "the web process publishes everything at start, before it listens"
        if publisher == "web"
        else "a `flask worker`; the web process publishes nothing at start"
    )
    print(
        f"### Cold start, x{scale}: server time per request (gunicorn `%(M)s`)\n\n"
        f"{len(paths):,} default feed URLs + {len(variants)} variants, {CLIENTS} clients; "
        f"`flask db upgrade` {upgraded:.1f} s{copied}; no `flask publish`; publisher: "
        f"{publisher} ({who})\n",
        flush=True,
    )
    processes = []
    with log.open("wb") as out, worker_log.open("wb") as worker_out:
        started = time.monotonic()
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out)
        )
        if publisher == "worker":
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "service", "worker"],
                    cwd=ROOT,
                    env={**os.environ, **env},
                    stdout=worker_out,
                    stderr=worker_out,
                )
            )
        try:
            listening = wait_for_listen(port, processes[0], timeout=3600)
            base = f"http://127.0.0.1:{port}"
            print(f"gunicorn accepted connections {listening:.1f} s after it was started\n")
            print("| burst | requests | statuses | server max s | server p99 s | over 1 s "
                  "| client p99 s | client max s |")  # fmt: skip
            print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
            first = burst(base, paths + variants, bound)
            out.flush()
            mark = log.stat().st_size
            slow = describe("at once, from cold", first, server_times(log, 0, mark))
            write: dict = {}
            writer = threading.Thread(target=patch, args=(base, token, write), daemon=True)
            writer.start()
            second = burst(base, paths + variants, bound)
            writer.join(max(bound, 300))
            time.sleep(0.5)  # the last lines reach the log
            times = server_times(log, mark)
            slow_too = describe("while a write is published", second, times)
            for label, found in (("at once", slow), ("during the write", slow_too)):
                if found:
                    shown = ", ".join(found[:10]) + (", …" if len(found) > 10 else "")
                    print(f"\nover 1 s {label}: {shown}")
            writes = [t for t in times if t[2].startswith("/api/")]
            print(
                f"\nthe write: {write.get('status', 'no answer')}, client "
                f"{write.get('seconds', float('nan')):.3f} s; server time of the API "
                f"requests in that burst: "
                f"{', '.join(f'{s:.3f} s ({m})' for s, m, _ in writes) or 'none logged'}\n",
                flush=True,
            )
        finally:
            for process in processes:
                stop(process)
    if publisher != "web":
        return None
    if not server:
        with sqlite3.connect(db) as connection:  # fold the WAL into the file
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"env": env, "db": db, "listening": listening}


def patch(base: str, token: str, result: dict) -> None:
    """Move the benchmark session once through the API; store status and client seconds."""
    started = time.monotonic()
    try:
        current = requests.get(base + SESSION, timeout=600)
        answer = requests.patch(
            base + SESSION,
            json={"local_time": "10:17"},
            headers={"Authorization": f"Bearer {token}", "If-Match": current.headers["ETag"]},
            timeout=600,
        )
        result["status"] = answer.status_code
    except (requests.RequestException, KeyError) as error:
        result["status"] = f"failed: {error}"
    result["seconds"] = time.monotonic() - started
