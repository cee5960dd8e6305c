"""Serving benchmark (issue 11): gridfeed behind its nginx front and straight from gunicorn,
against anchors started by this same script in the same run; prints Markdown tables.

    python benchmarks/bench_serving.py --quick    # every part, x1: 6-10 min on the loaded box
    python benchmarks/bench_serving.py --quick --parts readers   # one part: 1-3 min
    python benchmarks/bench_serving.py            # more repeats, longer wrk runs
    python benchmarks/bench_serving.py --x16      # also the x16 data set (61,440 sessions)
    python benchmarks/bench_serving.py --quick --database postgres   # a throw-away PostgreSQL
    python benchmarks/bench_serving.py --quick --scales 16 --parts cold,readers,propagation

Started here, on loopback, on the synthetic data set (benchmarks/synthetic.py, cached in
benchmarks/.cache/): gridfeed under gunicorn exactly as the Procfile's ``web:`` line, nginx
rendered from ``deploy/nginx.conf`` in front of it, and the anchors: nginx serving the same
bytes as plain static files (``gzip_static``, ``etag``), and the minimal Flask app
(``baseline_app.py``) under the same gunicorn command serving the same precomputed bytes.
Load comes from wrk (2 threads, 64 connections). Every figure is a median over interleaved
repeats, with min-max as the spread, and is reported as a ratio against its anchor.

Measures: 200 / 304 / gzip of the largest calendar and of /news.atom via the front and straight
from gunicorn; readers while one session changes every 0.5 s against readers without writes
(throughput and p99 ratios); the time from a write returning to every web process serving the
new bytes (p95); one-session change to published bytes against ical-generator's full build of
the same calendar (Node; skipped with a line saying so where Node or npm is missing); worker
RSS after 10 writes and after many. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import cold_start  # noqa: E402
from benchmarks.postgres import (  # noqa: E402
    DEFAULT_PORT,
    fresh_database,
    throwaway_postgres,
    timed_copy,
)
from benchmarks.synthetic import CACHE, cached_database  # noqa: E402
from service.store.engine import get_store  # noqa: E402
from tests.servers import free_port, nginx_command, render_nginx_conf, stop, web_command  # noqa: E402

SERIES = "series-00-2025"
SESSION = f"/api/v1/championships/{SERIES}/rounds/1/sessions/race-1"
FEEDS = {"calendar": "/calendar.ics", "atom": "/news.atom"}
# The public origin of every run (GRIDFEED_PUBLIC_BASE_URL): fixed, not the front's loopback
# port, so the published feeds (database and files) can be cached between runs.
ORIGIN = "http://bench.gridfeed.example"
PARTS = ("static", "readers", "propagation", "change", "rss", "cold")
# The parts that share one set of servers on a published database.
SERVED_PARTS = {"static", "readers", "propagation", "change", "rss"}
# Server logs of this run (gunicorn's access and error log): where a 5xx is explained. One
# directory per run, so runs at the same time never remove each other's logs.
LOGS = CACHE.parent / "results" / "serving-logs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
ICAL_GENERATOR = "ical-generator@8"
# Long enough for the start-up check (issue 13); it seals nothing that outlives the run.
BENCH_SECRET_KEY = "gridfeed-benchmark-only-" + "0123456789abcdef" * 2
ANCHOR_NGINX = """
worker_processes auto;
pid $state/nginx.pid;
error_log $state/error.log warn;
events { worker_connections 4096; }
http {
    sendfile on;
    tcp_nopush on;
    access_log off;
    keepalive_requests 10000;
    client_body_temp_path $state/client_body;
    proxy_temp_path $state/proxy;
    types { text/calendar ics; application/atom+xml atom; }
    server {
        listen 127.0.0.1:$port;
        root $root;
        gzip_static on;
        gzip_vary on;
        etag on;
    }
}
"""


# -- processes ----------------------------------------------------------------------------


def wait_for_url(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    """Poll ``url`` until it answers 200; raise with the process's fate if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


@contextmanager
def procfile_gunicorn(app_spec: str | None, env: dict[str, str], chdir: Path) -> Iterator[str]:
    """The Procfile's web command (its app spec swapped for ``app_spec`` if given)."""
    port = free_port()
    command = web_command(port)
    if app_spec:
        command = [*command[:-1], "--chdir", str(chdir), app_spec]
    log = open(LOGS / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_url(f"{url}/{'healthz' if app_spec else 'readyz'}", process)
        yield url
    finally:
        stop(process)
        log.close()


@contextmanager
def run_nginx(conf: Path, port: int) -> Iterator[str]:
    """nginx on ``conf`` in the foreground, as the current user."""
    process = subprocess.Popen(
        nginx_command(conf), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(url + "/", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.05)
        yield url
    finally:
        stop(process)


@contextmanager
def flask_worker(env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """The Procfile's worker process."""
    log = open(LOGS / "worker.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "service", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        stop(process)
        log.close()


def anchor_nginx_conf(target: Path, port: int, root: Path) -> Path:
    """A plain static nginx on ``root``: the speed a front cannot beat."""
    state = target / "state"
    state.mkdir(parents=True, exist_ok=True)
    conf = target / "nginx.conf"
    text = string.Template(ANCHOR_NGINX).substitute(state=state, port=port, root=root)
    conf.write_text(text, encoding="utf-8")
    return conf


def flask_cli(env: dict[str, str], *args: str) -> str:
    """``flask --app service ...`` with ``env``; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


# -- load ---------------------------------------------------------------------------------

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(url: str, seconds: float, headers: dict[str, str] | None = None) -> dict[str, float]:
    """wrk's requests/s and p99 latency (s) for ``url``; non-2xx/3xx answers are an error."""
    command = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx" in output:
        raise RuntimeError(f"wrk saw errors on {url}: {output}")
    rate = float(re.search(r"Requests/sec:\s*([\d.]+)", output).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s|m)", output).groups()
    return {"rate": rate, "p99": float(value) * UNITS[unit]}


def spread(values: list[float], digits: int = 0) -> str:
    """ "median (min–max)"."""
    med = statistics.median(values)
    return f"{med:,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def ratio(ours: list[float], anchor: list[float]) -> str:
    """Median over median, with the spread of per-repeat ratios."""
    pairs = [o / a for o, a in zip(ours, anchor, strict=True) if a]
    med = statistics.median(ours) / statistics.median(anchor)
    return f"**{med:.2f}×** ({min(pairs):.2f}–{max(pairs):.2f})"


def row(*cells: object) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


# -- writing ------------------------------------------------------------------------------


def move_session(url: str, token: str, minute: int) -> float:
    """PATCH the benchmark session's start to 10:<minute> through ``url``; return the
    monotonic time the response arrived."""
    current = requests.get(url + SESSION, timeout=60)
    response = requests.patch(
        url + SESSION,
        json={"local_time": f"10:{minute % 60:02d}"},
        headers={"Authorization": f"Bearer {token}", "If-Match": current.headers["ETag"]},
        timeout=60,
    )
    response.raise_for_status()
    return time.monotonic()


class Writer(threading.Thread):
    """Changes one session every ``every`` seconds until stopped; counts its writes."""

    def __init__(self, url: str, token: str, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.every = url, token, every
        self.done = threading.Event()
        self.writes = 0
        self.failures: list[str] = []
        self.minute = 0

    def run(self) -> None:
        while not self.done.is_set():
            start = time.monotonic()
            self.minute += 1
            try:
                move_session(self.url, self.token, self.minute)
                self.writes += 1
            except requests.RequestException as error:  # counted and reported, not hidden
                self.failures.append(str(error))
            self.done.wait(max(0.0, self.every - (time.monotonic() - start)))


# -- the measures -------------------------------------------------------------------------


def static_figures(
    targets: dict[str, str], etags: dict[str, dict[str, str]], repeats: int, seconds: float
) -> dict[tuple[str, str, str], list[float]]:
    """req/s of every (server, feed, mode), interleaved: all servers one after the other,
    for each feed and mode, ``repeats`` times."""
    figures: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(repeats):
        for feed, path in FEEDS.items():
            for mode in ("200", "304", "gzip"):
                for server, base in targets.items():
                    headers = {}
                    if mode == "304":
                        headers["If-None-Match"] = etags[server][feed]
                    if mode == "gzip":
                        headers["Accept-Encoding"] = "gzip"
                    result = wrk(base + path, seconds, headers)
                    figures.setdefault((server, feed, mode), []).append(result["rate"])
    return figures


def reader_figures(url: str, token: str, repeats: int, seconds: float) -> dict[str, list[float]]:
    """Readers of /calendar.ics (gzip) without writes and while a session changes every
    0.5 s, interleaved."""
    figures: dict[str, list[float]] = {}
    for _ in range(repeats):
        quiet = wrk(url + FEEDS["calendar"], seconds, {"Accept-Encoding": "gzip"})
        writer = Writer(url, token)
        writer.start()
        busy = wrk(url + FEEDS["calendar"], seconds, {"Accept-Encoding": "gzip"})
        writer.done.set()
        writer.join(60)
        for name, value in (
            ("quiet rate", quiet["rate"]),
            ("quiet p99", quiet["p99"]),
            ("busy rate", busy["rate"]),
            ("busy p99", busy["p99"]),
            ("writes", writer.writes),
            ("failed writes", len(writer.failures)),
        ):
            figures.setdefault(name, []).append(value)
    return figures


def propagation_figures(urls: list[str], token: str, writes: int) -> list[float]:
    """Seconds from a write returning until every web process serves the new bytes: polled
    on fresh connections (each may reach another gunicorn worker) until 16 answers in a row
    are new; the figure is when the first of those arrived."""
    path = f"/championships/{SERIES}/calendar.ics"
    delays = []
    for step in range(writes):
        old = {requests.get(u + path, timeout=60).headers["ETag"] for u in urls}
        try:
            returned = move_session(urls[0], token, 30 + step)
        except requests.RequestException as error:
            print(f"- write {step} failed, not counted: {error}")
            continue
        fresh_since, in_a_row = None, 0
        while in_a_row < 16 and time.monotonic() - returned < 30:
            for u in urls:
                etag = requests.get(u + path, timeout=60).headers["ETag"]
                if etag in old:
                    fresh_since, in_a_row = None, 0
                else:
                    fresh_since = fresh_since or time.monotonic()
                    in_a_row += 1
        delays.append((fresh_since or time.monotonic()) - returned)
        time.sleep(0.2)
    return delays


def published_change_figures(url: str, token: str, published: Path, writes: int) -> list[float]:
    """Seconds from sending a one-session change to the published /calendar.ics file (the
    largest) holding the new bytes."""
    file = published / FEEDS["calendar"].lstrip("/")
    delays = []
    for step in range(writes):
        before = file.read_bytes()
        current = requests.get(url + SESSION, timeout=60)
        start = time.monotonic()
        response = requests.patch(
            url + SESSION,
            json={"local_time": f"11:{step % 60:02d}"},
            headers={"Authorization": f"Bearer {token}", "If-Match": current.headers["ETag"]},
            timeout=60,
        )
        response.raise_for_status()
        while file.read_bytes() == before and time.monotonic() - start < 60:
            time.sleep(0.002)
        delays.append(time.monotonic() - start)
    return delays


ICAL_SCRIPT = r"""
const { default: ical } = await import(process.argv[2]);
const fs = await import('node:fs');
const events = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const repeat = Number(process.argv[4]);
function build() {
  const calendar = ical({ name: 'gridfeed: all championships', prodId: '//bench//EN' });
  for (const e of events) {
    calendar.createEvent({
      id: e.uid, sequence: e.sequence, stamp: new Date(e.stamp), start: new Date(e.start),
      end: new Date(e.end), allDay: e.all_day, summary: e.summary,
      description: e.description, location: e.location, url: e.url,
    });
  }
  return calendar.toString();
}
build();
const times = [];
let size = 0;
for (let i = 0; i < repeat; i++) {
  const start = process.hrtime.bigint();
  size = build().length;
  times.push(Number(process.hrtime.bigint() - start) / 1e9);
}
console.log(JSON.stringify({ times, size }));
"""


def ical_generator_figures(db: Path, work: Path, repeat: int) -> dict | str:
    """ical-generator's full build of every event of /calendar.ics (Node), or why not."""
    if not (shutil.which("node") and shutil.which("npm")):
        return "Node or npm is missing: the ical-generator anchor is skipped"
    node_dir = ROOT / "benchmarks" / ".cache" / "node"
    module = node_dir / "node_modules" / "ical-generator" / "dist" / "index.js"
    if not module.exists():
        node_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-save", "--prefix", str(node_dir), ICAL_GENERATOR],
            check=True,
            capture_output=True,
        )
    events = work / "events.json"
    events.write_text(json.dumps(export_events(db)), encoding="utf-8")
    script = work / "build.mjs"
    script.write_text(ICAL_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        ["node", str(script), module.as_uri(), str(events), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def export_events(db: Path) -> list[dict]:
    """Every event of /calendar.ics as plain values (UTC instants) for the Node anchor."""
    from service import create_app
    from service.calendars.facts import CalendarOptions, feed_facts
    from service.domain import queries
    from service.domain.site import Site
    from service.store.engine import get_store

    app = create_app({"DATABASE_URL": f"sqlite:///{db}", "AUTO_SEED": False})
    site = Site("bench.gridfeed.example", "http://127.0.0.1", 60)
    with get_store(app).sessions() as session:
        rounds = [r for c in queries.all_championships(session) for r in c.rounds]
        events = []
        for facts in feed_facts(rounds, CalendarOptions(), site):
            all_day = not isinstance(facts.start, dt.datetime)
            end = facts.end or facts.start
            events.append(
                {
                    "uid": facts.uid,
                    "sequence": facts.sequence,
                    "stamp": facts.stamp.isoformat(),
                    "start": instant(facts.start),
                    "end": instant(end),
                    "all_day": all_day,
                    "summary": facts.summary,
                    "description": facts.description,
                    "location": facts.location,
                    "url": facts.url,
                }
            )
    get_store(app).engine.dispose()
    return events


def instant(value: dt.date | dt.datetime) -> str:
    """An ISO instant for JavaScript's Date (dates at UTC midnight)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).isoformat()


def rss_of(pid: int) -> float:
    """Resident set size of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def worker_rss_figures(
    env: dict[str, str], published: Path, many: int, budget: float
) -> dict[int, float]:
    """RSS of the Procfile's worker after 10 writes and after up to ``many``. The writes come
    from this process with in-process publishing off, so the worker is the only publisher;
    they come in bursts of 10, each burst published (one publication, a new version of every
    affected feed) before the next. Stops after the burst that ends past ``budget`` seconds
    (the figures then stop at the largest count done); prints progress every 100 writes."""
    from service import create_app
    from service.writes import write

    quiet_env = {
        **env,
        "GRIDFEED_PUBLISH_IN_PROCESS": "0",
        "GRIDFEED_WORKER_POLL_SECONDS": "0.05",
    }
    app = create_app(
        {
            "DATABASE_URL": env["DATABASE_URL"],
            "AUTO_SEED": False,
            "PUBLISH_IN_PROCESS": "0",
            "RUN_WORKER_IN_PROCESS": "0",
            "PUBLIC_BASE_URL": env["GRIDFEED_PUBLIC_BASE_URL"],
            "FEED_DOMAIN": env["GRIDFEED_DOMAIN"],
            "SECRET_KEY": env["SECRET_KEY"],
            "PUBLISH_DIR": "",  # this process publishes nothing
        }
    )
    file = published / "championships" / SERIES / "calendar.ics"
    figures = {}
    started = time.monotonic()
    with flask_worker(quiet_env) as process:
        for burst in range(many // 10):
            before = file.read_bytes()
            for step in range(burst * 10, burst * 10 + 10):
                move_in_process(app, write, step)
            deadline = time.monotonic() + 300
            while file.read_bytes() == before:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the worker did not publish within 300 s (or died)")
                time.sleep(0.01)
            done = (burst + 1) * 10
            figures[done] = rss_of(process.pid)
            took = time.monotonic() - started
            if done % 100 == 0 or done == 10:
                print(f"- RSS: {done} writes published in {took:.0f} s, worker "
                      f"{figures[done]:.1f} MB", file=sys.stderr, flush=True)  # fmt: skip
            if took > budget and done < many:
                print(f"- RSS: time budget of {budget:.0f} s spent after {done} writes",
                      file=sys.stderr, flush=True)  # fmt: skip
                break
    get_store(app).engine.dispose()
    return figures


def move_in_process(app, write, step: int) -> None:
    """Move the benchmark session to 12:<step> through the write path, in this process."""
    from sqlalchemy import select

    from service.domain.models import Championship, Round, Session

    with write(app, actor="benchmark") as w:
        session = w.session.scalar(
            select(Session)
            .join(Round)
            .join(Championship)
            .where(Championship.slug == SERIES, Round.number == 1, Session.slug == "race-1")
        )
        fields = {
            "name": session.name,
            "kind": session.kind,
            "local_date": session.local_date,
            "local_time": dt.time(12, step % 60),
            "duration_minutes": session.duration_minutes,
        }
        w.upsert_session(session.round, session.slug, fields)


# -- the run ------------------------------------------------------------------------------


def gridfeed_env(database_url: str, base_url: str, publish_dir: Path) -> dict[str, str]:
    """The environment of gridfeed's processes in this run."""
    return {
        "DATABASE_URL": database_url,
        "GRIDFEED_AUTO_SEED": "0",
        "GRIDFEED_DOMAIN": "bench.gridfeed.example",
        "GRIDFEED_PUBLIC_BASE_URL": base_url,
        "GRIDFEED_PUBLISH_DIR": str(publish_dir),
        "GRIDFEED_TRUSTED_PROXY_HOPS": "1",
        "SECRET_KEY": BENCH_SECRET_KEY,
    }


def published_release(env: dict[str, str], db: Path, publish_dir: Path, scale: int) -> str:
    """Run the release step ``flask --app service publish`` on ``db`` (or copy its result,
    database and files, from an earlier run on the same code); say how long it took."""
    sources = sorted((ROOT / "service").rglob("*.py"))
    key = hashlib.sha256(b"".join(p.read_bytes() for p in sources) + db.read_bytes())
    cached = CACHE / f"published-x{scale}-{key.hexdigest()[:16]}"
    if (cached / "done.json").exists():
        shutil.copy(cached / db.name, db)
        shutil.copytree(cached / "files", publish_dir)
        took = json.loads((cached / "done.json").read_text())["seconds"]
        return f"`flask --app service publish`: {took:.1f} s (when first run; cached since)"
    started = time.monotonic()
    try:
        flask_cli(env, "publish")
    except RuntimeError as error:  # a checkout from before publishing existed
        return f"no release publish step ({str(error).splitlines()[-1]})"
    took = time.monotonic() - started
    with sqlite3.connect(db) as connection:  # fold the WAL into the file before copying it
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.rmtree(cached, ignore_errors=True)
    cached.mkdir(parents=True)
    shutil.copy(db, cached / db.name)
    shutil.copytree(publish_dir, cached / "files")
    (cached / "done.json").write_text(json.dumps({"seconds": took}))
    return f"`flask --app service publish`: {took:.1f} s"


def copy_anchor_files(front: str, target: Path) -> dict[str, bytes]:
    """The bytes gridfeed serves for each feed, as files (and .gz) for the anchors."""
    bodies = {}
    for path in FEEDS.values():
        body = requests.get(front + path, timeout=300).content
        file = target / path.lstrip("/")
        file.write_bytes(body)
        file.with_name(file.name + ".gz").write_bytes(gzip.compress(body, 9, mtime=0))
        bodies[path] = body
    return bodies


def check_same_bytes(targets: dict[str, str], bodies: dict[str, bytes]) -> dict:
    """Every server answers the same bytes (plain and gzip); return each one's ETags."""
    etags: dict[str, dict[str, str]] = {}
    for server, base in targets.items():
        for feed, path in FEEDS.items():
            plain = requests.get(base + path, headers={"Accept-Encoding": "identity"}, timeout=60)
            assert plain.content == bodies[path], (server, path)
            zipped = requests.get(base + path, headers={"Accept-Encoding": "gzip"}, timeout=60)
            if zipped.headers.get("Content-Encoding") != "gzip":
                print(f"- {server} answers {path} uncompressed to `Accept-Encoding: gzip`")
            assert zipped.content == bodies[path], (server, path)  # requests decompressed it
            etags.setdefault(server, {})[feed] = plain.headers["ETag"]
    return etags


def report_static(figures: dict, sizes: dict[str, tuple[int, int]]) -> None:
    print("\n### 200 / 304 / gzip, requests/s (wrk -t2 -c64), median (min–max)\n")
    for feed, path in FEEDS.items():
        plain, packed = sizes[path]
        print(f"`{path}`: {plain:,} bytes, {packed:,} gzipped\n")
        row("mode", "front", "nginx static", "front / nginx", "gunicorn", "Flask baseline",
            "gunicorn / baseline")  # fmt: skip
        row(*["---"] * 7)
        for mode in ("200", "304", "gzip"):
            get = {s: figures[(s, feed, mode)] for s in ("front", "static", "gunicorn", "base")}
            row(
                mode,
                spread(get["front"]),
                spread(get["static"]),
                ratio(get["front"], get["static"]),
                spread(get["gunicorn"]),
                spread(get["base"]),
                ratio(get["gunicorn"], get["base"]),
            )
        print()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer, shorter repeats (one part: 1-3 minutes)"
    )
    parser.add_argument("--x16", action="store_true", help="also the x16 data set (long)")
    parser.add_argument(
        "--scales", default=None, help="comma-separated data set scales, e.g. 16 (default: 1)"
    )
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="per wrk run")
    parser.add_argument(
        "--publisher",
        choices=("web", "worker"),
        default=None,
        help="who publishes after a write: the web process (default on SQLite, the embedded "
        "default) or a `flask worker` process (the Procfile's shape; default on PostgreSQL)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="postgres: a throw-away server (.ci/postgres.sh, own TMPDIR, --pg-port) holding "
        "a copy of the synthetic data set; stopped at the end, on error too",
    )
    parser.add_argument("--pg-port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--rss-writes", type=int, default=None, help="writes of the rss part (100 / 1000)"
    )
    parser.add_argument(
        "--rss-budget",
        type=float,
        default=300,
        help="seconds after which the rss part stops and reports the largest count done",
    )
    parser.add_argument(
        "--cold-seconds",
        type=float,
        default=120,
        help="bound of each burst of requests in the cold part",
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated, any of {', '.join(PARTS)} (default: all)",
    )
    return parser.parse_args()


def run_scale(scale: int, args: argparse.Namespace, work: Path, server: str | None) -> None:
    """Every measure on the data set at ``scale`` (``server``: PostgreSQL's URL, or None
    for SQLite)."""
    repeats = args.repeats or (3 if args.quick else 5)
    seconds = args.seconds or (1 if args.quick else 3)
    parts = set(args.parts.split(","))
    work = work / f"x{scale}"
    work.mkdir()
    print(f"\n## x{scale}, {args.database}, load average {load_average()}\n", flush=True)
    cold = None
    if "cold" in parts:
        cold = cold_start.report(
            scale, work / "cold", server, gridfeed_env, flask_cli, args.cold_seconds,
            args.publisher, LOGS,
        )  # fmt: skip
        print(f"(load average after the cold part: {load_average()})\n", flush=True)
    if not parts & SERVED_PARTS:
        return
    if cold:  # gunicorn published everything at its start: serve that (x16: no second run)
        env, db = cold["env"], cold["db"]
        publish_dir = Path(env["GRIDFEED_PUBLISH_DIR"])
        release = (
            f"none of its own: the cold part's database, published by gunicorn at its start "
            f"({cold['listening']:.0f} s), plus that part's one write"
        )
    else:
        db = cached_database(work / "bench.sqlite3", scale)
        publish_dir = work / "published"
        env = gridfeed_env(f"sqlite:///{db}", ORIGIN, publish_dir)
        release = published_release(env, db, publish_dir, scale)
        if server:  # the same published data set, copied into PostgreSQL
            url = fresh_database(server, f"gridfeed_x{scale}")
            env = {**env, "DATABASE_URL": url}
            release += "; on PostgreSQL: " + postgres_release(env, db, url)
    front_port = free_port()
    published = publish_dir / urlsplit(ORIGIN).netloc
    anchor_dir = work / "anchor"
    anchor_dir.mkdir()
    with ExitStack() as stack:
        if args.publisher == "worker":  # the Procfile's shape: a worker process publishes
            env = {**env, "GRIDFEED_PUBLISH_IN_PROCESS": "0"}
            stack.enter_context(flask_worker(env))
        else:
            env = {**env, "GRIDFEED_PUBLISH_IN_PROCESS": "1"}
        app = stack.enter_context(procfile_gunicorn(None, env, ROOT))
        conf = render_nginx_conf(
            work / "front", listen=front_port, upstreams=[free_port_of(app)],
            publish_dir=publish_dir, base_url=ORIGIN,
        )  # fmt: skip
        front = stack.enter_context(run_nginx(conf, front_port))
        bodies = copy_anchor_files(front, anchor_dir)
        static_port = free_port()
        static = stack.enter_context(
            run_nginx(anchor_nginx_conf(work / "static", static_port, anchor_dir), static_port)
        )
        base = stack.enter_context(
            procfile_gunicorn(
                "baseline_app:create_app()",
                {"BASELINE_DIR": str(anchor_dir)},
                ROOT / "benchmarks",
            )
        )
        targets = {"front": front, "static": static, "gunicorn": app, "base": base}
        etags = check_same_bytes(targets, bodies)
        sessions = bodies[FEEDS["calendar"]].count(b"BEGIN:VEVENT")
        print(f"{sessions:,} events in `/calendar.ics`\n")
        print(f"Release step: {release}; publishing after writes: {args.publisher} process\n")
        sizes = {
            p: (len(b), (anchor_dir / (p.lstrip("/") + ".gz")).stat().st_size)
            for p, b in bodies.items()
        }
        if "static" in parts:
            report_static(static_figures(targets, etags, repeats, seconds), sizes)
        token = flask_cli(env, "tokens", "create", "bench").strip().splitlines()[-1]
        if "readers" in parts:
            readers_table(app, front, token, repeats, max(seconds, 2))
        if "propagation" in parts:
            propagation_report([app, front], token, 5 if args.quick else 30)
        if "change" in parts:
            change_report(app, token, db, work, published, args.quick)
    if "rss" in parts:  # after the servers stopped: the worker must be the only publisher
        many = args.rss_writes or (100 if args.quick else 1000)
        started = time.monotonic()
        rss = worker_rss_figures(env, published, many, args.rss_budget)
        took = time.monotonic() - started
        done = max(rss)
        series = ", ".join(f"{writes}: {mb:.0f}" for writes, mb in rss.items())
        short = (
            ""
            if done == many
            else f" (of {many} asked: the {args.rss_budget:.0f} s budget ran out)"
        )
        print(
            f"### Worker RSS\n\nafter 10 writes {rss[10]:.1f} MB, after {done} writes{short} "
            f"{rss[done]:.1f} MB: **{rss[done] / rss[10]:.2f}×** in {took:.0f} s (writes in "
            f"bursts of 10, each burst published by the worker before the next; MB after each "
            f"burst: {series})\n"
        )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def postgres_release(env: dict[str, str], db: Path, url: str) -> str:
    """The Procfile's release step on PostgreSQL with the published data set copied in:
    ``flask db upgrade``, the copy, ``flask publish``; say how long each took."""
    started = time.monotonic()
    flask_cli(env, "db", "upgrade")
    upgraded = time.monotonic() - started
    rows, copied = timed_copy(db, url)
    started = time.monotonic()
    flask_cli(env, "publish")
    published = time.monotonic() - started
    return (
        f"`flask db upgrade` {upgraded:.1f} s, {rows:,} rows copied in {copied:.1f} s, "
        f"`flask --app service publish` {published:.1f} s"
    )


def readers_table(app: str, front: str, token: str, repeats: int, seconds: float) -> None:
    """Readers with and without a writer, straight from gunicorn and via the front."""
    print("### Readers while one session changes every 0.5 s (gzip 200s of /calendar.ics)\n")
    row("readers via", "req/s, no writes", "req/s, writes", "ratio", "p99 s, no writes",
        "p99 s, writes", "p99 ratio", "writes done")  # fmt: skip
    row(*["---"] * 8)
    for name, url in (("gunicorn", app), ("front", front)):
        readers = reader_figures(url, token, repeats, seconds)
        row(
            name,
            spread(readers["quiet rate"]),
            spread(readers["busy rate"]),
            ratio(readers["busy rate"], readers["quiet rate"]),
            spread(readers["quiet p99"], 3),
            spread(readers["busy p99"], 3),
            ratio(readers["busy p99"], readers["quiet p99"]),
            f"{spread(readers['writes'])}, failed: {sum(readers['failed writes']):.0f}",
        )


def propagation_report(urls: list[str], token: str, writes: int) -> None:
    """p95 of write returned → every web process and the front serve the new bytes."""
    delays = propagation_figures(urls, token, writes)
    p95 = (
        statistics.quantiles(delays, n=20, method="inclusive")[-1]
        if len(delays) > 1
        else max(delays)
    )
    print(
        f"\n### Write returned → every web process and the front serve the new bytes\n\n"
        f"p95 {p95:.3f} s, median {statistics.median(delays):.3f} s, max {max(delays):.3f} s "
        f"over {len(delays)} writes\n"
    )


def change_report(app: str, token: str, db: Path, work: Path, published: Path, quick: bool) -> None:
    """One-session change to published bytes against ical-generator's full build."""
    anchor = ical_generator_figures(db, work, 3 if quick else 7)
    print("### One-session change → published /calendar.ics vs ical-generator full build\n")
    changes = []
    if (published / FEEDS["calendar"].lstrip("/")).exists():
        changes = published_change_figures(app, token, published, 3 if quick else 15)
        print(f"gridfeed, PATCH sent → file replaced: {spread(changes, 3)} s")
    else:
        print(f"gridfeed published no file under {published}: not measured")
    if isinstance(anchor, str):
        print(f"\n{anchor}\n")
    elif not changes:
        print(f"\nical-generator full build: {spread(anchor['times'], 3)} s\n")
    else:
        print(
            f"\nical-generator full build ({anchor['size']:,} characters, "
            f"{len(anchor['times'])} builds): {spread(anchor['times'], 3)} s; "
            f"ratio {ratio(changes, [statistics.median(anchor['times'])] * len(changes))}\n"
        )


def free_port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def main() -> None:
    args = parse_args()
    args.publisher = args.publisher or ("worker" if args.database == "postgres" else "web")
    # Stopped with SIGTERM: unwind, so every server this script started is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for tool in ("wrk", "nginx"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            raise SystemExit(f"{tool} is needed: apt-get install -y {tool}")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = " ".join(["python", "benchmarks/bench_serving.py", *sys.argv[1:]])
    print(
        f"_{when}, `{command}`, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {load_average()}._"
    )
    work = Path(tempfile.mkdtemp(prefix="gridfeed-serving-"))
    LOGS.mkdir(parents=True)
    print(f"Server logs: {LOGS.relative_to(ROOT)}", file=sys.stderr)
    try:
        with ExitStack() as stack:
            server = None
            if args.database == "postgres":
                server = stack.enter_context(throwaway_postgres(args.pg_port))
            scales = args.scales or ("1,16" if args.x16 else "1")
            for scale in (int(x) for x in scales.split(",")):
                run_scale(scale, args, work, server)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
