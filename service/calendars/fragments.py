"""The fragment cache: rendered VEVENT and VTIMEZONE bytes, reused across renders."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class FragmentCache:
    """Rendered VEVENT and VTIMEZONE bytes (LRU, thread-safe). One per app, in
    ``app.extensions``.

    An event's key is its ``EventFacts`` value itself: everything the event shows is in the
    key by construction, so a fragment is never stale. A change gives new facts, and the old
    fragment ages out.
    """

    def __init__(self, max_items: int = 100_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def many(self, wanted: list[tuple[Hashable, Callable[[], bytes]]]) -> list[bytes]:
        """The fragment of each ``(key, make)``, calling ``make()`` only for missing keys."""
        with self._lock:
            found = [self._items.get(key) for key, _ in wanted]
        made: dict[Hashable, bytes] = {}
        for (key, make), value in zip(wanted, found, strict=True):
            if value is None and key not in made:
                made[key] = make()
        with self._lock:
            self.misses += len(made)
            self.hits += len(wanted) - len(made)
            self._items.update(made)
            for key, _ in wanted:
                self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return [v if v is not None else made[k] for (k, _), v in zip(wanted, found, strict=True)]

    def clear(self) -> None:
        """Forget every fragment."""
        with self._lock:
            self._items.clear()
