"""Many machines, for real: one PostgreSQL, two independent gunicorn instances (machine A and
machine B, each with its own worker and its own PUBLISH_DIR) behind nginx from
``deploy/nginx.conf`` as the load balancer.

- a write through A is served by B and through nginx within 1 s;
- killing A leaves every feed served;
- the two workers never render the same work twice (each publication lands in one
  machine's files only).

Fails (never skips) where ``CI`` is set and PostgreSQL or nginx is missing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .conftest import DATA_DIR, REPO_ROOT
from .servers import free_port, gunicorn, nginx, procfile_command, render_nginx_conf, require
from .servers import worker as worker_process

GT4 = "gt4-european-series-2023"
ADAC = "adac-gt4-germany-2023"
FEEDS = (
    "/calendar.ics",
    f"/championships/{GT4}/calendar.ics",
    f"/championships/{ADAC}/calendar.ics",
    f"/championships/{GT4}/rounds/2.ics",
    "/competitors/jessica-backman/calendar.ics",
    "/news.atom",
    "/news.rss",
    "/news.json",
    f"/championships/{GT4}/news.atom",
)
# Sessions of the shipped data with a date (a time needs one).
SESSIONS = tuple(
    f"/api/v1/championships/{GT4}/rounds/2/sessions/{slug}"
    for slug in ("race-1", "qualifying-1", "qualifying-2")
)
CHAMPIONSHIP_FEED = f"/championships/{GT4}/calendar.ics"


def postgres_url() -> str:
    url = os.environ.get("GRIDFEED_TEST_POSTGRES_URL")
    if url:
        return url
    message = "GRIDFEED_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Cluster:
    """The front's URL, each machine's app URL, process and PUBLISH_DIR, the shared env."""

    front: str
    apps: dict[str, str]
    webs: dict[str, subprocess.Popen]
    published: dict[str, Path]
    env: dict[str, str]


def run_flask(env: dict[str, str], *args: str) -> str:
    """``flask --app service ...`` against the cluster's database; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def database() -> Iterator[str]:
    """A new PostgreSQL database for one test, dropped afterwards."""
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    name = f"gridfeed_machines_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def cluster(database: str, tmp_path: Path) -> Iterator[Cluster]:
    require("nginx")
    front_port = free_port()
    base_url = f"http://127.0.0.1:{front_port}"
    common = {
        "DATABASE_URL": database,
        "GRIDFEED_DATA_DIR": str(DATA_DIR),
        "GRIDFEED_DOMAIN": "gridfeed.test",
        "GRIDFEED_PUBLIC_BASE_URL": base_url,
        "GRIDFEED_TRUSTED_PROXY_HOPS": "1",
        "GRIDFEED_FEED_VERSION_RECHECK_SECONDS": "0.2",
        "GRIDFEED_WORKER_POLL_SECONDS": "0.05",
        "SECRET_KEY": "many-machines-test-key-" + "0123456789abcdef" * 2,
    }
    # The release phase, once, before any web process: migrate and seed, then publish all.
    release = " ".join(procfile_command("release")).split(" && ")  # run as `sh -c` would
    assert [step.split()[3] for step in release] == ["db", "publish"], release
    for step in release:
        assert step.startswith("flask --app service "), step
        run_flask({**common, "GRIDFEED_PUBLISH_DIR": str(tmp_path / "release")}, *step.split()[3:])
    running = {**common, "GRIDFEED_AUTO_MIGRATE": "0", "GRIDFEED_AUTO_SEED": "0"}
    ports = {"A": free_port(), "B": free_port()}
    published = {name: tmp_path / f"machine-{name}" / "published" for name in ports}
    with ExitStack() as stack:
        webs = {}
        for name, port in ports.items():
            env = {**running, "GRIDFEED_PUBLISH_DIR": str(published[name])}
            log = tmp_path / f"machine-{name}"
            log.mkdir(parents=True, exist_ok=True)
            webs[name] = stack.enter_context(gunicorn(port, env, log / "web.log"))
            stack.enter_context(worker_process(env, log / "worker.log"))
        # The load balancer has no worker and no files of its own: every feed comes from a
        # machine, which answers from the stored bytes in PostgreSQL.
        conf = render_nginx_conf(
            tmp_path / "balancer",
            listen=front_port,
            upstreams=list(ports.values()),
            publish_dir=tmp_path / "balancer" / "no-files",
            base_url=base_url,
        )
        front = stack.enter_context(nginx(conf, front_port))
        apps = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        yield Cluster(front, apps, webs, published, running)


def new_token(env: dict[str, str]) -> str:
    """A token made with the CLI, as an operator would."""
    return run_flask(env, "tokens", "create", "machines-test").strip().splitlines()[-1]


def move_session(url: str, token: str, path: str, minute: int) -> str:
    """PATCH a session's start to 10:<minute> through ``url``; return the DTSTART time."""
    current = requests.get(url + path, timeout=30)
    assert current.status_code == 200, current.text
    changed = requests.patch(
        url + path,
        json={"local_time": f"10:{minute:02d}"},
        headers={"Authorization": f"Bearer {token}", "If-Match": current.headers["ETag"]},
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    return f"T10{minute:02d}00"


def published(cluster: Cluster, path: str, marker: str) -> str:
    """Wait until a worker has published ``path`` with ``marker`` in it (its file, written
    after the store's commit, shows it); return which machine's worker did. Generous: how fast
    a worker renders is the benchmark's business, not this test's."""
    netloc = cluster.front.removeprefix("http://")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for name, root in cluster.published.items():
            file = root / (netloc + path)
            if file.exists() and marker.encode() in file.read_bytes():
                return name
        time.sleep(0.01)
    raise AssertionError(f"no worker published {path} with {marker}")


def served_everywhere(cluster: Cluster, path: str, marker: str, within: float) -> float:
    """Seconds until machine B and the front both serve ``path`` with ``marker`` in it."""
    start = time.monotonic()
    waiting = {"machine B": cluster.apps["B"], "the front": cluster.front}
    while True:
        for who, url in list(waiting.items()):
            if marker.encode() in requests.get(url + path, timeout=30).content:
                del waiting[who]
        if not waiting:
            return time.monotonic() - start
        elapsed = time.monotonic() - start
        assert elapsed < within, f"{', '.join(waiting)} still serve the old {path}"
        time.sleep(0.02)


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def test_a_write_through_a_is_served_by_b_and_the_front_within_a_second(
    cluster: Cluster,
) -> None:
    """Once a worker has published a change, every web process on every machine and the
    front serve it within 1 s (each polls the publication counter)."""
    token = new_token(cluster.env)
    for step, session in enumerate(SESSIONS):
        marker = move_session(cluster.apps["A"], token, session, 10 + step)
        published(cluster, CHAMPIONSHIP_FEED, marker)
        served_everywhere(cluster, CHAMPIONSHIP_FEED, marker, within=1.0)
        served_everywhere(cluster, "/calendar.ics", marker, within=1.0)


def test_killing_machine_a_leaves_every_feed_served(cluster: Cluster) -> None:
    before = {path: requests.get(cluster.front + path, timeout=30).content for path in FEEDS}
    cluster.webs["A"].send_signal(signal.SIGKILL)
    cluster.webs["A"].wait(timeout=30)
    for _ in range(3):  # enough rounds for the balancer to try the dead machine first
        for path in FEEDS:
            response = requests.get(cluster.front + path, timeout=30)
            assert response.status_code == 200, (path, response.text[:300])
            assert response.content == before[path], path
    token = new_token(cluster.env)
    marker = move_session(cluster.front, token, SESSIONS[0], 42)  # B takes the write
    published(cluster, CHAMPIONSHIP_FEED, marker)
    served_everywhere(cluster, CHAMPIONSHIP_FEED, marker, within=1.0)


def test_two_workers_never_render_the_same_work_twice(cluster: Cluster) -> None:
    """Each machine's worker writes the files it publishes into its own PUBLISH_DIR: a
    publication done by both would leave the same new bytes in both directories."""
    token = new_token(cluster.env)
    netloc = cluster.front.removeprefix("http://")
    files = {name: root / (netloc + CHAMPIONSHIP_FEED) for name, root in cluster.published.items()}
    renders = {"A": 0, "B": 0}
    for step in range(6):
        before = {name: digest(path) for name, path in files.items()}
        marker = move_session(cluster.apps["AB"[step % 2]], token, SESSIONS[step % 3], 20 + step)
        renders[published(cluster, CHAMPIONSHIP_FEED, marker)] += 1
        served_everywhere(cluster, CHAMPIONSHIP_FEED, marker, within=1.0)
        time.sleep(0.5)  # a second render of the same work, if any, would land now
        served = hashlib.sha256(requests.get(cluster.front + CHAMPIONSHIP_FEED, timeout=30).content)
        fresh = [n for n, p in files.items() if digest(p) == served.hexdigest()]
        rewritten = [n for n, p in files.items() if digest(p) != before[n]]
        assert fresh == rewritten and len(fresh) == 1, (step, fresh, rewritten)
    assert sum(renders.values()) == 6
