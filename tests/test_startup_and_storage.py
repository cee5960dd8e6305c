"""Issue 14: the Procfile as a Procfile runner runs it, two processes migrating one fresh file,
one Date header under ``flask run``, and storage failures answered 503 (reads still served)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from .conftest import REPO_ROOT, make_app, new_token

GT4 = "gt4-european-series-2023"
BIN = str(Path(sys.executable).parent)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _procfile() -> dict[str, str]:
    text = (REPO_ROOT / "Procfile").read_text(encoding="utf-8")
    return dict(re.findall(r"^(\w+):\s*(.+)$", text, flags=re.M))


def _env(db: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": f"sqlite:///{db}",
        **extra,
    }


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"exited {proc.returncode} before answering: {out[-3000:]}")
        try:
            return requests.get(url, timeout=5)
        except (requests.ConnectionError, requests.Timeout):  # bound, not yet serving
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {seconds} s")


def _wait_for_line(proc: subprocess.Popen, words: str, seconds: float = 60) -> None:
    """Read the process's output until a line holds ``words`` (in a thread: never hangs)."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            seen.append(line)
            if words in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(seconds):
        pytest.fail(f"no line with {words!r} within {seconds} s: {''.join(seen)[-3000:]}")


@contextmanager
def _running(command: list[str] | str, env: dict[str, str], shell: bool = False) -> Iterator:
    proc = subprocess.Popen(
        command,
        shell=shell,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, signalled as one like a dyno
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# -- the Procfile -------------------------------------------------------------------------


def test_procfile_release_line_runs_under_sh(tmp_path: Path) -> None:
    line = _procfile()["release"]
    result = subprocess.run(
        ["sh", "-c", line],
        cwd=REPO_ROOT,
        env=_env(tmp_path / "release.sqlite3", PORT="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_procfile_web_line_serves_under_sh(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(tmp_path / "web.sqlite3", PORT=str(port))
    with _running(["sh", "-c", _procfile()["web"]], env) as proc:
        response = _wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        assert response.status_code == 200 and response.text.startswith("ok")
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_procfile_worker_line_starts_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "worker.sqlite3"
    make_app(db)  # the release step has run
    env = _env(db, PORT="0", GRIDFEED_WORKER_POLL_SECONDS="0.1")
    with _running(["sh", "-c", _procfile()["worker"]], env) as proc:
        _wait_for_line(proc, "started with")
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stdout.read()


# -- two processes starting on one fresh database -----------------------------------------


def test_two_processes_starting_together_on_a_fresh_file_both_come_up(tmp_path: Path) -> None:
    db = tmp_path / "fresh.sqlite3"
    env = _env(db)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "service", "tokens", "create", f"t{i}"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out[-3000:]
    app = make_app(db, AUTO_SEED=False)
    assert app.test_client().get("/healthz").text.startswith("ok data_version=1 published=")


# -- one Date header ----------------------------------------------------------------------


SERVERS = {
    "flask run": [sys.executable, "-m", "flask", "--app", "service", "run", "--port", "{port}"],
    "gunicorn": [
        sys.executable,
        "-m",
        "gunicorn",
        "-b",
        "127.0.0.1:{port}",
        "service:create_app()",
    ],
}


@pytest.mark.parametrize("server", SERVERS)
def test_servers_send_one_date_header(tmp_path: Path, server: str) -> None:
    db = tmp_path / "run.sqlite3"
    make_app(db)
    port = _free_port()
    command = [part.replace("{port}", str(port)) for part in SERVERS[server]]
    with _running(command, _env(db)) as proc:
        _wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        for path in ("/calendar.ics", "/news.rss", "/api/v1/sessions", "/", "/nope.rss"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    head += chunk
            lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            dates = [ln for ln in lines if ln.lower().startswith("date:")]
            assert len(dates) == 1, (path, lines)


# -- storage failures ---------------------------------------------------------------------


@contextmanager
def _read_only(path: Path, force_uri: bool = False) -> Iterator[str]:
    """Make the database file read-only, as a read-only disk would, and yield the database
    URL to use. Root ignores file modes, so for root the file is made immutable (chattr +i);
    where that is not possible (a file system without it) SQLite opens the file read-only
    (``mode=ro``), which fails writes the same way. Undone afterwards."""
    os.chmod(path, 0o444)
    immutable = False
    if os.geteuid() == 0 and not force_uri and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    read_only_for_us = os.geteuid() != 0 or immutable
    try:
        if read_only_for_us:
            yield f"sqlite:///{path}"
        else:
            yield f"sqlite:///file:{path}?mode=ro&uri=true"
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        os.chmod(path, 0o644)


@pytest.mark.parametrize("force_uri", [False, True], ids=["read-only-file", "mode-ro"])
def test_read_only_database_reads_200_writes_503(
    tmp_path: Path, seeded_template: Path, force_uri: bool
) -> None:
    db = tmp_path / "ro.sqlite3"
    shutil.copy(seeded_template, db)
    token = new_token(make_app(db, AUTO_SEED=False))
    with _read_only(db, force_uri) as url:
        app = make_app(
            db,
            DATABASE_URL=url,
            AUTO_SEED=False,
            AUTO_MIGRATE=False,
            DNS_RESOLVER=lambda host, port: ["8.8.8.8"],
        )
        client = app.test_client()
        for path in (
            "/",
            "/news.rss",
            "/calendar.ics",
            "/api/v1/sessions",
            f"/championships/{GT4}",
        ):
            assert client.get(path).status_code == 200, path
        assert client.get("/healthz").status_code == 200  # the process is alive
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.data
        body = {"slug": "ro", "title": "Read-only", "body_markdown": "x"}
        response = client.post(
            "/api/v1/articles", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 503, response.data
        assert response.content_type == "application/problem+json"
        assert int(response.headers["Retry-After"]) > 0
        assert "storage" in response.json["detail"]
        form = {
            "hub.mode": "subscribe",
            "hub.topic": "http://localhost/news.rss",
            "hub.callback": "http://example.com/cb",
        }
        hub = client.post("/websub", data=form)
        assert hub.status_code == 503 and hub.headers["Retry-After"], hub.data
        assert hub.content_type.startswith("text/plain")
    client = make_app(db, AUTO_SEED=False).test_client()
    assert client.get("/readyz").status_code == 200
