"""Counting feed fetchers on the request path: an in-memory increment, nothing more.

A person's fetcher is ``sha256(day's salt, address, user agent)``: the address and user agent
are never stored, and once the day's salt is deleted (``daily.close_days``) no hash of that
day can be linked to anyone again (the approach Plausible documents). Aggregators are counted
by name with the number they report.

Each web process keeps its own ``FetchCounter`` in ``app.extensions``; ``daily.flush`` moves
what it holds into the database (the worker does this, and a small flusher thread in each web
process), where the unique (day, feed, fetcher) rows make the count distinct across processes.
The day's salt comes from the database too (so that every process hashes alike) and is loaded
ahead of time by the flusher; only a process's very first fetch of a day can find it missing
and read it then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .agents import classify

FEED_KEY_MAX = 300
AGGREGATOR_PREFIX = "aggregator:"


@dataclass
class Pending:
    """What a counter holds until the next flush."""

    # (day, feed, championship) -> hashes of distinct fetchers
    people: dict[tuple[dt.date, str, str | None], set[str]] = field(default_factory=dict)
    # (day, feed, championship, aggregator) -> the most subscribers it reported
    aggregators: dict[tuple[dt.date, str, str | None, str], int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.people or self.aggregators)


class FetchCounter:
    """Thread-safe in-memory counts of one process. One per app; never global."""

    def __init__(self, salt_loader: Callable[[dt.date], str]) -> None:
        self._load_salt = salt_loader
        self._salts: dict[dt.date, str] = {}
        self._pending = Pending()
        self._lock = threading.Lock()

    def know_salts(self, salts: dict[dt.date, str]) -> None:
        """Keep exactly these days' salts (the flusher's view: today and tomorrow)."""
        with self._lock:
            self._salts = dict(salts)

    def known_salts(self) -> dict[dt.date, str]:
        """The salts held now."""
        with self._lock:
            return dict(self._salts)

    def _salt(self, day: dt.date) -> str:
        salt = self._salts.get(day)
        if salt is None:  # the flusher has not loaded it yet: once per process and day
            salt = self._load_salt(day)
            with self._lock:
                self._salts[day] = salt
        return salt

    def record(
        self, day: dt.date, feed: str, championship: str | None, address: str, user_agent: str
    ) -> None:
        """Count one fetch of ``feed`` (a path, options folded away) on ``day``."""
        feed = feed[:FEED_KEY_MAX]
        fetcher = classify(user_agent)
        if fetcher.aggregator is not None:
            key = (day, feed, championship, fetcher.aggregator)
            with self._lock:
                pending = self._pending.aggregators
                pending[key] = max(pending.get(key, 0), fetcher.subscribers)
            return
        digest = hashlib.sha256(
            "\0".join((self._salt(day), address, user_agent)).encode()
        ).hexdigest()[:32]
        with self._lock:
            self._pending.people.setdefault((day, feed, championship), set()).add(digest)

    def take(self) -> Pending:
        """Everything counted since the last call (the caller writes it)."""
        with self._lock:
            taken, self._pending = self._pending, Pending()
        return taken

    def give_back(self, pending: Pending) -> None:
        """Put back counts a failed flush could not write, to try again."""
        with self._lock:
            for key, hashes in pending.people.items():
                self._pending.people.setdefault(key, set()).update(hashes)
            for key, count in pending.aggregators.items():
                held = self._pending.aggregators
                held[key] = max(held.get(key, 0), count)
