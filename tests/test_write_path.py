"""The one write path: rules enforced, everything or nothing, versions and revisions."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from service.domain.models import Championship, Change, Round, Session
from service.store.engine import get_store
from service.writes import WriteError, write

from .helpers import store_counts

GT4 = "gt4-european-series-2023"


def _round(w, number: int) -> Round:
    champ = w.session.scalar(select(Championship).where(Championship.slug == GT4))
    return w.session.scalar(
        select(Round).where(Round.championship == champ, Round.number == number)
    )


def _session_fields(**overrides):
    fields = {
        "name": "Race 3",
        "kind": "race",
        "local_date": dt.date(2023, 6, 4),
        "local_time": dt.time(11, 0),
        "duration_minutes": 60,
    }
    fields.update(overrides)
    return fields


def test_a_rule_violation_rolls_back_the_whole_transaction(app) -> None:
    before = store_counts(app)
    with pytest.raises(WriteError) as err, write(app, actor="test") as w:
        w.upsert_session(_round(w, 2), "race-3", _session_fields())  # valid, written first
        w.upsert_session(_round(w, 2), "race-4", _session_fields(local_date=dt.date(2023, 6, 9)))
    assert err.value.field == "date"
    assert "outside its round's dates 2023-06-02 to 2023-06-04" in err.value.message
    assert store_counts(app) == before
    with get_store(app).sessions() as session:
        assert session.scalar(select(Session).where(Session.slug == "race-3")) is None


def test_each_transaction_bumps_the_version_once(app) -> None:
    changes, version = store_counts(app)
    with write(app, actor="test") as w:
        w.upsert_session(_round(w, 2), "race-3", _session_fields())
        w.upsert_session(_round(w, 2), "race-4", _session_fields(local_time=dt.time(15, 0)))
    assert store_counts(app) == (changes + 2, version + 1)


def test_revision_rises_with_every_change_and_not_without(app) -> None:
    with write(app, actor="test") as w:
        created = w.upsert_session(_round(w, 2), "race-3", _session_fields())
    assert created.revision == 0
    for minute, expected in ((0, 0), (30, 1), (30, 1), (45, 2)):
        with write(app, actor="test") as w:
            s = w.upsert_session(
                _round(w, 2), "race-3", _session_fields(local_time=dt.time(11, minute))
            )
        assert s.revision == expected


def test_a_second_writer_waits_for_the_first_and_both_land(app) -> None:
    _, version = store_counts(app)
    first_inside, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with write(app, actor="first") as w:
                w.upsert_session(_round(w, 2), "race-3", _session_fields())
                first_inside.set()
                release.wait(timeout=10)
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    def second() -> None:
        try:
            first_inside.wait(timeout=10)
            with write(app, actor="second") as w:  # blocks on the write lock until first commits
                w.upsert_session(_round(w, 2), "race-4", _session_fields())
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_inside.wait(timeout=10)
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive(), "the second writer must wait while the first holds the lock"
    release.set()
    for t in threads:
        t.join(timeout=30)
    assert not failures
    with get_store(app).sessions() as session:
        rows = session.execute(
            select(Change.actor, Change.data_version).where(Change.actor.in_(["first", "second"]))
        ).all()
    assert sorted(rows) == [("first", version + 1), ("second", version + 2)]
