"""Round parts (``calendars.parts``) kept current: remembered in memory, stored in the
``calendar_parts`` table, and made again only for rounds whose stamp (``publish.skeleton``)
moved. Whoever needs a part (a worker's batch, or a web process building a variant) reads
the stored one when its stamp matches, so a change is rendered once, by one process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select, tuple_
from sqlalchemy.orm import Session as OrmSession

from ..calendars.parts import RoundPart, decode_part, encode_part, round_part
from ..domain import queries
from ..domain.models import Competitor, Round
from ..domain.site import Site
from ..store.engine import conflict_insert
from .models import CalendarPart
from .skeleton import RoundRef

# Parts remembered per process, by decoded size: every round of the x1 synthetic data set
# (3,840 sessions) takes about 9 MB, so x16 fits too. A batch walks the rounds of the whole
# calendar in order, so a bound below that would make the LRU miss on every round.
MEMORY_BYTES = 192 * 1024 * 1024
EVENT_OVERHEAD = 200  # bytes of a decoded EventPart besides its byte strings
# Part keys looked up in the store in one statement.
LOOKUP_CHUNK = 500

PartKey = tuple[str, int, int]  # site, round id, competitor id (0: none)


def site_key(site: Site) -> str:
    """What parts depend on of a site: the feed domain (UIDs) and the origin (URLs)."""
    return f"{site.domain} {site.base_url}"


@dataclass(frozen=True)
class PartRow:
    """A part made in this batch, to store with the batch's feeds."""

    key: PartKey
    stamp: str
    data: bytes


class PartsMemory:
    """Decoded parts by key, with their stamp (LRU bounded by encoded bytes). One per app."""

    def __init__(self, max_bytes: int = MEMORY_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[PartKey, tuple[str, RoundPart, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: PartKey, stamp: str) -> RoundPart | None:
        """The part under ``key`` if it was made at ``stamp``."""
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] != stamp:
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: PartKey, stamp: str, part: RoundPart) -> None:
        """Remember ``part`` under ``key``."""
        size = sum(
            len(e.local) + len(e.utc or b"") + len(e.alarm_text or b"") + EVENT_OVERHEAD
            for e in part.events
        )
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._items[key] = (stamp, part, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _, (_, _, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped


class PartsReader:
    """Gives the parts of rounds for one batch or request: memory, then the store, then made
    from the rounds loaded now. Parts it made are in ``made`` (for the caller to store)."""

    def __init__(self, session: OrmSession, memory: PartsMemory) -> None:
        self.session = session
        self.memory = memory
        self.made: dict[PartKey, PartRow] = {}

    def parts(
        self,
        site: Site,
        rounds: Sequence[RoundRef],
        competitor_id: int | None = None,
        own_rounds: frozenset[int] = frozenset(),
    ) -> list[RoundPart]:
        """The part of each round, in order; a competitor's own where they have results."""
        where = site_key(site)
        keys = [
            (where, r.id, competitor_id if competitor_id and r.id in own_rounds else 0)
            for r in rounds
        ]
        stamps = {key: ref.stamp for key, ref in zip(keys, rounds, strict=True)}
        found: dict[PartKey, RoundPart] = {}
        for key in keys:
            part = self.memory.get(key, stamps[key])
            if part is not None:
                found[key] = part
        missing = [k for k in keys if k not in found]
        if missing:
            found.update(self._stored(missing, stamps))
        missing = [k for k in keys if k not in found]
        if missing:
            found.update(self._make(site, missing, stamps))
        return [found[key] for key in keys]

    def _stored(self, keys: list[PartKey], stamps: dict[PartKey, str]) -> dict[PartKey, RoundPart]:
        found: dict[PartKey, RoundPart] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            rows = self.session.execute(
                select(
                    CalendarPart.site,
                    CalendarPart.round_id,
                    CalendarPart.competitor_id,
                    CalendarPart.stamp,
                    CalendarPart.data,
                ).where(_keys_match(chunk))
            )
            for site, round_id, competitor_id, stamp, data in rows:
                key = (site, round_id, competitor_id)
                if stamps.get(key) != stamp:
                    continue  # made before the round last changed
                part = decode_part(data)
                self.memory.put(key, stamp, part)
                found[key] = part
        return found

    def _make(
        self, site: Site, keys: list[PartKey], stamps: dict[PartKey, str]
    ) -> dict[PartKey, RoundPart]:
        rounds = queries.rounds_by_ids(self.session, sorted({k[1] for k in keys}))
        competitors: dict[int, Competitor | None] = {0: None}
        found: dict[PartKey, RoundPart] = {}
        for key in keys:
            _, round_id, competitor_id = key
            if competitor_id not in competitors:
                competitors[competitor_id] = self.session.get(Competitor, competitor_id)
            round_: Round = rounds[round_id]
            part = round_part(round_, site, competitors[competitor_id])
            data = encode_part(part)
            self.memory.put(key, stamps[key], part)
            self.made[key] = PartRow(key, stamps[key], data)
            found[key] = part
        return found


def _keys_match(keys: list[PartKey]) -> object:
    by_site: dict[str, list[tuple[int, int]]] = {}
    for site, round_id, competitor_id in keys:
        by_site.setdefault(site, []).append((round_id, competitor_id))
    return or_(
        *(
            and_(
                CalendarPart.site == site,
                tuple_(CalendarPart.round_id, CalendarPart.competitor_id).in_(pairs),
            )
            for site, pairs in by_site.items()
        )
    )


def save_parts(session: OrmSession, rows: Sequence[PartRow]) -> None:
    """Store parts made by a batch (inserted or replaced), in the caller's transaction."""
    if not rows:
        return
    table = CalendarPart.__table__
    for row in rows:
        site, round_id, competitor_id = row.key
        statement = conflict_insert(session, table).values(
            site=site,
            round_id=round_id,
            competitor_id=competitor_id,
            stamp=row.stamp,
            data=row.data,
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.site, table.c.round_id, table.c.competitor_id],
                set_={"stamp": row.stamp, "data": row.data},
            )
        )


def prune_parts(session: OrmSession) -> int:
    """Forget the parts of rounds that no longer exist; return how many rows went."""
    live = select(Round.id)
    return session.execute(delete(CalendarPart).where(CalendarPart.round_id.not_in(live))).rowcount
