"""Event facts remembered across publications, so a one-session change recomputes the facts
of that session and its round only (``session_facts`` and ``round_facts`` dominate a
re-render: time zone arithmetic and wording for every event of every affected calendar).

An entry's key holds what its facts are made of and what may change them: the session's and
round's revision and change time (the write path bumps them for every change of the
session, its results, its round and its circuit), the championship's names, the latest
change of the championship or its entries, the latest change of any circuit, team or driver,
and the options, site and competitor. Keys are read from the same snapshot the facts are
made from, so an entry is valid whichever worker published the changes in between.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from ..calendars.facts import CalendarOptions, EventFacts, FactsMemo
from ..domain.models import Competitor, Round, Session
from ..domain.site import Site

MAX_ITEMS = 400_000  # about 6 entries per session at x16; cleared whole when exceeded


class FactsCache:
    """Facts by key; one per app (``app.extensions``), bounded."""

    def __init__(self, max_items: int = MAX_ITEMS) -> None:
        self.max_items = max_items
        self._items: dict[Hashable, EventFacts | None] = {}
        self._lock = threading.Lock()

    def get_or_make(
        self, key: Hashable, make: Callable[[], EventFacts | None]
    ) -> EventFacts | None:
        """The facts under ``key``, made (and kept) on a miss."""
        try:
            return self._items[key]
        except KeyError:
            pass
        facts = make()
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()  # a bounded memory beats a perfect hit rate
            self._items[key] = facts
        return facts


def binder(
    cache: FactsCache, epochs: tuple[int, dict[str, int]]
) -> Callable[[CalendarOptions, Site, Competitor | None], FactsMemo]:
    """A function giving, for one calendar's options, site and competitor, the memo that
    ``feed_facts`` consults."""
    unowned, by_championship = epochs

    def bind(options: CalendarOptions, site: Site, competitor: Competitor | None) -> FactsMemo:
        def memo(obj: object, make: Callable[[], EventFacts | None]) -> EventFacts | None:
            if isinstance(obj, Session):
                round_ = obj.round
                # A competitor changes a session's facts only through its published results.
                who = competitor.id if competitor is not None and obj.results else None
                key: Hashable = (
                    "session",
                    obj.id,
                    obj.revision,
                    obj.updated_at,
                    obj.results_status,
                    _round_part(round_),
                    _championship_part(round_, by_championship),
                    unowned,
                    options,
                    site,
                    who,
                )
            else:
                assert isinstance(obj, Round)
                key = (
                    "round",
                    _round_part(obj),
                    tuple((s.id, s.revision, s.updated_at, s.status) for s in obj.sessions),
                    _championship_part(obj, by_championship),
                    unowned,
                    site,
                )
            return cache.get_or_make(key, make)

        return memo

    return bind


def _round_part(round_: Round) -> tuple[object, ...]:
    return (round_.id, round_.revision, round_.updated_at, round_.status, round_.number)


def _championship_part(round_: Round, by_championship: dict[str, int]) -> tuple[object, ...]:
    championship = round_.championship
    return (
        championship.slug,
        championship.name,
        championship.short_name,
        by_championship.get(championship.slug, 0),
    )
