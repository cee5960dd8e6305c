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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session as OrmSession

from ..domain import queries


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


def load_skeleton(session: OrmSession, salt: str) -> Skeleton:
    """Read the skeleton; ``salt`` (the renderer's code fingerprint) goes into every stamp."""
    championships = [ChampionshipRef(*row) for row in queries.championship_rows(session)]
    by_id = {c.id: c for c in championships}
    unowned, by_championship = queries.change_epochs(session)
    sessions: dict[int, list[tuple[object, ...]]] = defaultdict(list)
    for row in queries.session_stamp_rows(session):
        sessions[row.round_id].append(tuple(row))
    skeleton = Skeleton(championships)
    for row in queries.round_rows(session):
        championship = by_id[row.championship_id]
        marks = sessions.get(row.id, [])
        championship_part = (
            championship.slug,
            championship.name,
            championship.short_name,
            by_championship.get(championship.slug, 0),
        )
        stamp = hashlib.sha256(
            repr((salt, tuple(row), marks, championship_part, unowned)).encode()
        ).hexdigest()[:40]
        # Session rows are (round_id, id, position, revision, updated_at, ...).
        updated = max([row.updated_at, *(mark[4] for mark in marks)])
        ref = RoundRef(
            row.id,
            championship,
            row.number,
            row.name or row.circuit_name,
            stamp,
            updated,  # type: ignore[arg-type]
        )
        skeleton.rounds.setdefault(championship.id, []).append(ref)
    return skeleton
