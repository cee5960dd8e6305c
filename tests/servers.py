"""Real servers for the front tests: gunicorn as the Procfile runs it, nginx from
``deploy/nginx.conf``, the worker, on free loopback ports in a temporary directory.

A missing binary skips the test on a developer's machine and fails it where ``CI`` is set.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import REPO_ROOT

NGINX_CONF = REPO_ROOT / "deploy" / "nginx.conf"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require(binary: str) -> str:
    """The path of ``binary``; skip without it, or fail where ``CI`` is set."""
    found = shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/sbin/{binary}") if os.access(p, os.X_OK)), None
    )
    if found:
        return found
    message = f"{binary} is not installed (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def procfile_command(process: str) -> list[str]:
    """The Procfile's command for ``process`` (``web``, ``worker``, ``release``), split."""
    procfile = (REPO_ROOT / "Procfile").read_text(encoding="utf-8")
    [line] = re.findall(rf"^{process}:\s*(.+)$", procfile, flags=re.M)
    command = shlex.split(line)
    return command[1:] if command[0] == "exec" else command


def web_command(port: int) -> list[str]:
    """The Procfile's web process on a loopback ``port``, run by this Python."""
    command = [
        part.replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1")
        for part in procfile_command("web")
    ]
    assert command[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *command[1:]]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll ``url`` until it answers 200; fail with the process's output if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop(process)
    output = process.stdout.read() if process.stdout else ""
    pytest.fail(f"{url} did not come up: {str(output)[-3000:]}")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop one process we started (by its own pid), killing it if it lingers."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def gunicorn(port: int, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """The Procfile's web process on ``port`` with ``env`` added; ready when /healthz is 200."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            web_command(port),
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/readyz", process)  # every feed published
        yield process
    finally:
        stop(process)


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """The Procfile's worker process with ``env`` added."""
    command = procfile_command("worker")
    assert command[0] == "flask"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", *command[1:]],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        stop(process)


def render_nginx_conf(
    target: Path,
    *,
    listen: int,
    upstreams: list[int],
    publish_dir: Path,
    base_url: str,
    access_log: str = "off",
) -> Path:
    """``deploy/nginx.conf`` with this run's values (as envsubst would), written into
    ``target`` with its state directory beside it; return the file."""
    state = target / "state"
    state.mkdir(parents=True, exist_ok=True)
    values = {
        "GRIDFEED_LISTEN": f"127.0.0.1:{listen}",
        "GRIDFEED_UPSTREAMS": " ".join(
            f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in upstreams
        ),
        "GRIDFEED_PUBLISH_DIR": str(publish_dir),
        "GRIDFEED_PUBLIC_BASE_URL": base_url,
        "GRIDFEED_PUBLIC_HOST": urlsplit(base_url).netloc,
        "GRIDFEED_STATE": str(state),
        "GRIDFEED_ACCESS_LOG": access_log,
    }
    text = NGINX_CONF.read_text(encoding="utf-8")
    # Only our ${GRIDFEED_...} names: nginx's own $variables stay as they are.
    rendered = string.Template(text).safe_substitute(values)
    body = "\n".join(line for line in rendered.splitlines() if not line.lstrip().startswith("#"))
    assert "${GRIDFEED_" not in body, "deploy/nginx.conf names a value tests do not set"
    conf = target / "nginx.conf"
    conf.write_text(rendered, encoding="utf-8")
    return conf


def nginx_command(conf: Path) -> list[str]:
    """nginx in the foreground on ``conf``, as the current user, its prefix beside ``conf``."""
    user = pwd.getpwuid(os.getuid()).pw_name
    directives = "daemon off; master_process on;"
    if os.getuid() == 0:  # as root nginx would switch its workers to nobody: stay who we are
        directives += f" user {user};"
    return [require("nginx"), "-p", str(conf.parent), "-c", str(conf), "-g", directives]


@contextmanager
def nginx(conf: Path, port: int) -> Iterator[str]:
    """Run nginx on ``conf`` (listening on ``port``); yield its base URL."""
    log = conf.parent / "nginx.out"
    check = subprocess.run(
        [*nginx_command(conf), "-t"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    with log.open("wb") as out:
        process = subprocess.Popen(nginx_command(conf), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text() + error_log(conf)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield url
    finally:
        stop(process, signal.SIGQUIT)  # graceful: finish what is in flight


def error_log(conf: Path) -> str:
    """nginx's error log for ``conf`` (for failure messages)."""
    path = conf.parent / "state" / "error.log"
    return path.read_text() if path.exists() else ""
