"""Real HTTP receivers on loopback for the notification tests: they record every request and
answer as scripted (status codes in turn, a delay, or a hold until released)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    """One request as the receiver saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    answered: int | None = None


@dataclass
class Receiver:
    """Scripted behaviour and the record of what arrived."""

    statuses: list[int] = field(default_factory=list)  # answered in turn; then ``default``
    default: int = 200
    delay: float = 0.0
    hold: threading.Event | None = None  # when set: each POST waits for it (up to hold_max)
    hold_max: float = 30.0
    echo_challenge: bool = True
    # Sent with every answer of 300 and above (a rate limit's Retry-After, a JSON reason).
    refusal_headers: dict[str, str] = field(default_factory=dict)
    refusal_body: bytes = b"nope"
    requests: list[Received] = field(default_factory=list)
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def posts(self) -> list[Received]:
        """The POSTs received so far."""
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]

    def gets(self) -> list[Received]:
        """The GETs (verification challenges) received so far."""
        with self.lock:
            return [r for r in self.requests if r.method == "GET"]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _record(self, body: bytes) -> Received:
            parts = urlsplit(self.path)
            seen = Received(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            with receiver.lock:
                receiver.requests.append(seen)
            return seen

        def do_GET(self) -> None:
            seen = self._record(b"")
            challenge = seen.query.get("hub.challenge", [""])[0]
            reply = challenge if receiver.echo_challenge else "no"
            self._answer(200, reply.encode(), seen)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = self._record(self.rfile.read(length))
            with receiver.lock:
                receiver.in_flight += 1
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
            try:
                if receiver.hold is not None:
                    receiver.hold.wait(receiver.hold_max)
                if receiver.delay:
                    time.sleep(receiver.delay)
                if status < 300:
                    self._answer(status, b"ok", seen)
                else:
                    self._answer(status, receiver.refusal_body, seen, receiver.refusal_headers)
            finally:
                with receiver.lock:
                    receiver.in_flight -= 1

        def _answer(
            self, status: int, body: bytes, seen: Received, headers: dict[str, str] | None = None
        ) -> None:
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                seen.answered = status
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up (timeout) or died

    return Handler


@contextmanager
def receiving(**behaviour: object) -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1, stopped on exit."""
    receiver = Receiver(**behaviour)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()


def wait_for(condition: Callable[[], object], timeout: float = 15.0, what: str = "") -> object:
    """Poll until ``condition()`` is truthy; fail the test (not hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
