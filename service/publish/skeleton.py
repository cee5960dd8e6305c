"""The shape of every calendar without the domain model: championships, their rounds in
order, and for each round a *stamp* that changes whenever anything its events show changes.

A publish batch reads this with a few column-only queries (no object graph) and then loads in
full only the rounds whose stamp differs from the stored parts (``publish.parts``): the cost
of a one-session change is that round, not the data set.

A round's stamp is a hash of the round's own columns, its circuit's name, every session's
change marks (revision, change time, status, results status and revision, order), the
championship's names with the latest change of the championship or its entries, the latest
change of any circuit, team or driver, and the renderer's code. The write path bumps a
session's or round's revision and change time for every change of it, its results or its
circuit, so equal stamps mean equal events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session as OrmSession

from ..domain import queries
from ..domain.keys import split_session_key


@dataclass(frozen=True)
class ChampionshipRef:
    """A championship's own columns."""

    id: int
    slug: str
    name: str
    short_name: str | None
    series: str
    season: int


@dataclass(frozen=True)
class RoundRef:
    """A round as a calendar names it, with the stamp of its events."""

    id: int
    championship: ChampionshipRef
    number: int
    display_name: str
    stamp: str
    # The latest change time of the round or any of its sessions (a feed's Last-Modified).
    updated_at: dt.datetime


@dataclass
class Skeleton:
    """Every championship (feed order) and its rounds (by number)."""

    championships: Sequence[ChampionshipRef]
    rounds: dict[int, list[RoundRef]] = field(default_factory=dict)

    def championship(self, slug: str) -> ChampionshipRef | None:
        """The championship with ``slug``, or None."""
        return next((c for c in self.championships if c.slug == slug), None)

    def rounds_of(self, championships: Iterable[ChampionshipRef]) -> list[RoundRef]:
        """The rounds of ``championships``, in their order."""
        return [r for c in championships for r in self.rounds.get(c.id, ())]


# Changes that alter only their own round's rows: the skeleton memo re-reads just that round.
ROUND_LOCAL = frozenset({"session", "results"})
# Changes no calendar shows.
UNSHOWN = frozenset({"article"})


@dataclass
class SkeletonRows:
    """A skeleton as read, kept between batches by ``SkeletonMemo``."""

    cursor: int  # the newest change record included
    salt: str
    championships: list[ChampionshipRef]
    epochs: tuple[int, dict[str, int]]
    rounds: dict[int, RoundRef]


class SkeletonMemo:
    """The last skeleton this process read, brought up to date from the change records: after
    a change to a session or its results only that round is read again. One per app."""

    def __init__(self) -> None:
        self._rows: SkeletonRows | None = None
        self._lock = threading.Lock()

    def load(self, session: OrmSession, salt: str) -> Skeleton:
        """The skeleton as the store holds it now; ``salt`` (the renderer's code fingerprint)
        goes into every stamp."""
        # The cursor first: a change committed after it is read again next time, never lost
        # (writers serialise on the data-state row, so change ids follow commit order).
        cursor = queries.latest_change_id(session)
        with self._lock:
            rows = self._rows
        if rows is None or rows.salt != salt or cursor < rows.cursor:
            rows = _read_all(session, salt, cursor)
        elif cursor > rows.cursor:
            rows = _read_changed(session, rows, cursor)
        with self._lock:
            self._rows = rows
        return _skeleton(rows)


def _read_all(session: OrmSession, salt: str, cursor: int) -> SkeletonRows:
    rows = SkeletonRows(
        cursor,
        salt,
        [ChampionshipRef(*row) for row in queries.championship_rows(session)],
        queries.change_epochs(session),
        {},
    )
    rows.rounds = _round_refs(session, rows, None)
    return rows


def _round_refs(
    session: OrmSession, rows: SkeletonRows, ids: Sequence[int] | None
) -> dict[int, RoundRef]:
    """The refs of every round (or of rounds ``ids``), read now."""
    marks: dict[int, list[tuple[object, ...]]] = defaultdict(list)
    for mark in queries.session_stamp_rows(session, ids):
        marks[mark.round_id].append(tuple(mark))
    by_id = {c.id: c for c in rows.championships}
    unowned, by_championship = rows.epochs
    refs = {}
    for row in queries.round_rows(session, ids):
        championship = by_id[row.championship_id]
        sessions = marks.get(row.id, [])
        championship_part = (
            championship.slug,
            championship.name,
            championship.short_name,
            by_championship.get(championship.slug, 0),
        )
        stamp = hashlib.sha256(
            repr((rows.salt, tuple(row), sessions, championship_part, unowned)).encode()
        ).hexdigest()[:40]
        # Session marks are (round_id, id, position, revision, updated_at, ...).
        updated = max([row.updated_at, *(mark[4] for mark in sessions)])
        refs[row.id] = RoundRef(
            row.id,
            championship,
            row.number,
            row.name or row.circuit_name,
            stamp,
            updated,  # type: ignore[arg-type]
        )
    return refs


def _read_changed(session: OrmSession, rows: SkeletonRows, cursor: int) -> SkeletonRows:
    changes = queries.changes_between(session, rows.cursor, cursor)
    if any(entity not in ROUND_LOCAL | UNSHOWN for entity, _ in changes):
        return _read_all(session, rows.salt, cursor)
    by_number = {(r.championship.slug, r.number): r.id for r in rows.rounds.values()}
    touched: set[int] = set()
    for entity, key in changes:
        if entity in UNSHOWN:
            continue
        championship, number, _ = split_session_key(key)
        round_id = by_number.get((championship, number))
        if round_id is None:
            return _read_all(session, rows.salt, cursor)
        touched.add(round_id)
    rounds = {i: ref for i, ref in rows.rounds.items() if i not in touched}
    if touched:
        rounds.update(_round_refs(session, rows, sorted(touched)))
    return replace(rows, cursor=cursor, rounds=rounds)


def _skeleton(rows: SkeletonRows) -> Skeleton:
    skeleton = Skeleton(rows.championships)
    for ref in sorted(rows.rounds.values(), key=lambda r: (r.championship.id, r.number)):
        skeleton.rounds.setdefault(ref.championship.id, []).append(ref)
    return skeleton
