"""The Procfile's web process, for real: gunicorn on a loopback port, seeded on first start."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .conftest import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _web_command(port: int) -> list[str]:
    procfile = (REPO_ROOT / "Procfile").read_text(encoding="utf-8")
    [web] = re.findall(r"^web:\s*(.+)$", procfile, flags=re.M)
    # Loopback only in tests; production binds every interface.
    command = shlex.split(web.replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1"))
    if command[0] == "exec":
        command.pop(0)
    assert command[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *command[1:]]


@pytest.fixture
def gunicorn_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'smoke.sqlite3'}"}
    proc = subprocess.Popen(
        _web_command(port), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            proc.kill()
            pytest.fail(f"gunicorn did not start: {proc.communicate()[0].decode()[-2000:]}")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_gunicorn_serves_seeded_home_page(gunicorn_url: str) -> None:
    health = requests.get(f"{gunicorn_url}/healthz", timeout=5).text
    assert health.startswith("ok data_version=1 published="), health
    home = requests.get(f"{gunicorn_url}/", timeout=5)
    assert home.status_code == 200
    assert "GT4 European Series 2023" in home.text and "ADAC GT4 Germany 2023" in home.text


def test_gunicorn_serves_feeds_and_api_with_caching(gunicorn_url: str) -> None:
    for path, media in (
        ("/calendar.ics", "text/calendar"),
        ("/news.atom", "application/atom+xml"),
        ("/api/v1/championships", "application/json"),
    ):
        first = requests.get(f"{gunicorn_url}{path}", timeout=10)
        assert first.status_code == 200, path
        assert first.headers["Content-Type"].startswith(media)
        again = requests.get(
            f"{gunicorn_url}{path}", timeout=10, headers={"If-None-Match": first.headers["ETag"]}
        )
        assert again.status_code == 304, path
