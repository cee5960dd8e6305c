"""Benchmark the iCal feeds on the synthetic data set; prints Markdown tables.

    python benchmarks/bench_calendar.py            # everything (a few minutes)
    python benchmarks/bench_calendar.py --quick    # fewer repeats, no x16, shorter wrk runs

Measures, as medians with min-max over repeats:
- the cold render of ``/calendar.ics`` (time, size) next to a straightforward icalendar build
  (one ``Calendar``, one ``Event`` per session, ``add_missing_timezones``, ``to_ical``);
- the re-render after one session's time changes (render only, and with reloading the data);
- warm 200s and 304s through the WSGI app in-process;
- warm 200s and 304s through gunicorn (2 workers) under wrk, next to a minimal Flask app
  (``baseline_app.py``) serving the same bytes with an ETag, in the same run;
- how the render grows with the number of sessions (x1, x4, x16).

Figures are wall-clock on whatever machine runs this: compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import build, scratch_app  # noqa: E402

from service.calendars.encoding import calendar_envelope, event_component, event_ical  # noqa: E402
from service.calendars.facts import CalendarMeta, CalendarOptions, feed_facts  # noqa: E402
from service.calendars.fragments import FragmentCache  # noqa: E402
from service.calendars.render import render_calendar  # noqa: E402
from service.domain import queries  # noqa: E402
from service.domain.models import Round, Session  # noqa: E402
from service.domain.site import Site  # noqa: E402
from service.store.engine import get_store  # noqa: E402
from service.writes import write  # noqa: E402

SETTINGS = Site("bench.gridfeed.example", "http://127.0.0.1", 60)
META = CalendarMeta("gridfeed: all championships", "Benchmark calendar")
OPTIONS = CalendarOptions()


# -- measuring -------------------------------------------------------------------------


def timed(run: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def spread(values: list[float], scale: float = 1.0, digits: int = 3) -> str:
    """ "median (min-max)" of ``values`` times ``scale``."""
    med = statistics.median(values) * scale
    return f"{med:.{digits}f} ({min(values) * scale:.{digits}f}–{max(values) * scale:.{digits}f})"


# -- the renders -----------------------------------------------------------------------


def load_rounds(app: Flask) -> tuple[OrmSession, list[Round]]:
    """Every round with its graph, as the ``/calendar.ics`` view loads it, and the session
    it lives in: keep the session as long as the rounds, as a request does."""
    session = get_store(app).sessions()
    return session, [r for c in queries.all_championships(session) for r in c.rounds]


def render(rounds: list[Round], cache: FragmentCache) -> bytes:
    """gridfeed's render of ``/calendar.ics`` with a fragment cache."""
    return render_calendar(META, rounds, OPTIONS, SETTINGS, None, cache)


def straightforward_build(rounds: list[Round]) -> bytes:
    """The plain icalendar way: one Calendar, one Event per event, icalendar's VTIMEZONEs."""
    calendar = calendar_envelope(META, SETTINGS)
    for facts in feed_facts(rounds, OPTIONS, SETTINGS):
        calendar.add_component(event_component(facts))
    calendar.add_missing_timezones(dt.date(2024, 1, 1), dt.date(2027, 1, 1))
    return calendar.to_ical()


def differing_events(rounds: list[Round]) -> int:
    """How many events gridfeed writes with other lines than icalendar's own Event.to_ical:
    the speed must not come from a different serialisation (expected: 0)."""
    differ = 0
    for options in (OPTIONS, CalendarOptions(alarms=(0, 30), utc=True)):
        for facts in feed_facts(rounds, options, SETTINGS):
            ours = event_ical(facts).split(b"\r\n")
            theirs = event_component(facts).to_ical().split(b"\r\n")
            differ += sorted(ours) != sorted(theirs)
    return differ


def change_one_session(app: Flask, step: int) -> None:
    """Move one session by a minute, through the write path."""
    with write(app, actor="benchmark") as w:
        session = w.session.scalar(select(Session).order_by(Session.id).limit(1))
        fields = {
            "name": session.name,
            "kind": session.kind,
            "local_date": session.local_date,
            "local_time": dt.time(10, step % 60),
            "duration_minutes": session.duration_minutes,
        }
        w.upsert_session(session.round, session.slug, fields)


def render_figures(app: Flask, repeat: int) -> dict[str, object]:
    """Load, straightforward, cold, warm and one-change figures for one data set."""
    _session, rounds = load_rounds(app)
    sessions = sum(len(r.sessions) for r in rounds)
    load = timed(lambda: load_rounds(app), repeat)
    plain = timed(lambda: straightforward_build(rounds), repeat)
    cold = timed(lambda: render(rounds, FragmentCache()), repeat)
    cache = FragmentCache()
    body = render(rounds, cache)
    unchanged = timed(lambda: render(rounds, cache), repeat)
    after_change, reload_and_render = [], []
    for step in range(repeat):
        change_one_session(app, step + 1)
        start = time.perf_counter()
        _session, changed = load_rounds(app)
        middle = time.perf_counter()
        render(changed, cache)
        end = time.perf_counter()
        after_change.append(end - middle)
        reload_and_render.append(end - start)
    return {
        "sessions": sessions,
        "bytes": len(body),
        "plain_bytes": len(straightforward_build(rounds)),
        "differing": differing_events(rounds) if sessions <= 4000 else None,
        "load": load,
        "plain": plain,
        "cold": cold,
        "unchanged": unchanged,
        "after_change": after_change,
        "reload_and_render": reload_and_render,
    }


# -- serving ---------------------------------------------------------------------------


def wsgi_figures(app: Flask, requests_per_batch: int, batches: int) -> dict[str, list[float]]:
    """Requests per second through the WSGI app in-process (test client), warm."""
    client = app.test_client()
    first = client.get("/calendar.ics")
    etag = first.headers["ETag"]

    def batch(headers: dict[str, str], status: int) -> float:
        start = time.perf_counter()
        for _ in range(requests_per_batch):
            assert client.get("/calendar.ics", headers=headers).status_code == status
        return requests_per_batch / (time.perf_counter() - start)

    return {
        "200": [batch({}, 200) for _ in range(batches)],
        "304": [batch({"If-None-Match": etag}, 304) for _ in range(batches)],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], chdir: Path) -> Iterator[str]:
    """A gunicorn (2 workers, as in the Procfile, no access log) on a loopback port."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--preload", "--workers", "2"]
    command += ["--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), app_spec]
    proc = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.head(f"{url}/calendar.ics", timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def wrk(url: str, seconds: int, headers: dict[str, str] | None = None) -> float:
    """Requests per second from wrk (2 threads, 16 connections)."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s*([\d.]+)", output).group(1))


def python_load(url: str, seconds: int, headers: dict[str, str] | None = None) -> float:
    """Requests per second from one keep-alive Python client (when wrk is missing)."""
    session = requests.Session()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.get(url, headers=headers or {})
        count += 1
    return count / (time.perf_counter() - start)


def gunicorn_figures(db: Path, work: Path, seconds: int, rounds: int) -> dict[str, list[float]]:
    """Warm 200s and 304s of gridfeed and of the baseline, interleaved in one run."""
    load = wrk if shutil.which("wrk") else python_load
    env = {
        "DATABASE_URL": f"sqlite:///{db}",
        "GRIDFEED_AUTO_SEED": "0",
        "GRIDFEED_AUTO_MIGRATE": "0",
        "GRIDFEED_DOMAIN": SETTINGS.domain,
        "GRIDFEED_PUBLIC_BASE_URL": SETTINGS.base_url,
    }
    figures: dict[str, list[float]] = {}
    with gunicorn("service:create_app()", env, ROOT) as gridfeed:
        url = f"{gridfeed}/calendar.ics"
        for _ in range(8):  # both workers render once (cold), then serve from the cache
            first = requests.get(url, timeout=60)
        body_file = work / "calendar.ics"
        body_file.write_bytes(first.content)
        etag = first.headers["ETag"]
        baseline_env = {"BASELINE_BODY": str(body_file)}
        with gunicorn("baseline_app:create_app()", baseline_env, ROOT / "benchmarks") as base:
            baseline = f"{base}/calendar.ics"
            assert requests.get(baseline, timeout=10).content == first.content
            for _ in range(rounds):
                for name, target, headers in (
                    ("baseline 200", baseline, None),
                    ("gridfeed 200", url, None),
                    ("baseline 304", baseline, {"If-None-Match": etag}),
                    ("gridfeed 304", url, {"If-None-Match": etag}),
                ):
                    figures.setdefault(name, []).append(load(target, seconds, headers))
    figures["load generator"] = [0.0] if load is wrk else [1.0]
    return figures


# -- report ----------------------------------------------------------------------------


def row(*cells: object) -> None:
    """Print one Markdown table row."""
    print("| " + " | ".join(str(c) for c in cells) + " |")


def report(growth: dict[int, dict], wsgi: dict, served: dict) -> None:
    """Print the figures as Markdown tables."""
    x1 = growth[1]
    row("`/calendar.ics`, 3,840 sessions", "seconds")
    row("---", "---")
    row(f"straightforward icalendar build ({x1['plain_bytes'] / 1e6:.2f} MB)", spread(x1["plain"]))
    row(f"gridfeed cold render ({x1['bytes'] / 1e6:.2f} MB)", spread(x1["cold"]))
    row("gridfeed re-render, nothing changed", spread(x1["unchanged"]))
    row("gridfeed re-render after one session changed", spread(x1["after_change"]))
    row("loading the data (queries.all_championships)", spread(x1["load"]))
    row("reload + re-render after one change", spread(x1["reload_and_render"]))
    print(f"\nEvents whose lines differ from icalendar's Event.to_ical(): {x1['differing']}\n")
    tool = "wrk -t2 -c16" if served.pop("load generator") == [0.0] else "a Python loop"
    row("warm requests/s", "200", "304")
    row("---", "---", "---")
    row(
        "gridfeed, WSGI in-process (test client)",
        spread(wsgi["200"], 1, 0),
        spread(wsgi["304"], 1, 0),
    )
    for who, label in (
        ("baseline", "minimal Flask app, same bytes + ETag"),
        ("gridfeed", "gridfeed"),
    ):
        row(
            f"{label}, gunicorn 2 workers, {tool}",
            spread(served[f"{who} 200"], 1, 0),
            spread(served[f"{who} 304"], 1, 0),
        )
    ratio = statistics.median(served["gridfeed 200"]) / statistics.median(served["baseline 200"])
    print(f"\ngridfeed / baseline, warm 200s under gunicorn: {ratio:.2f}×\n")
    row("sessions", "MB", "load s", "straightforward s", "cold s", "after one change s")
    row(*["---"] * 6)
    for scale, g in growth.items():
        row(
            f"{g['sessions']:,} (x{scale})",
            f"{g['bytes'] / 1e6:.1f}",
            spread(g["load"]),
            spread(g["plain"]),
            spread(g["cold"]),
            spread(g["after_change"]),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no x16")
    parser.add_argument("--repeat", type=int, default=None, help="render repeats (default 7)")
    args = parser.parse_args()
    repeat = args.repeat or (3 if args.quick else 7)
    scales = (1, 4) if args.quick else (1, 4, 16)
    seconds = 3 if args.quick else 5
    work = Path(tempfile.mkdtemp(prefix="gridfeed-bench-"))
    try:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        python = sys.version.split()[0]
        print(f"_{when}, {os.cpu_count()} CPUs, Python {python}; medians (min–max)._\n")
        growth = {}
        for scale in scales:
            db = work / f"x{scale}.sqlite3"
            app = scratch_app(db)
            build(app, championships=20 * scale)
            growth[scale] = render_figures(app, max(2, repeat // scale))
            if scale == 1:
                wsgi = wsgi_figures(app, 200 if not args.quick else 50, repeat)
                served = gunicorn_figures(db, work, seconds, 3 if not args.quick else 1)
        report(growth, wsgi, served)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
