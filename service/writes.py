"""The one write path. Every change to the store goes through a ``Writer``.

In one transaction a writer validates each change against the domain rules, writes it,
records a ``Change`` (entity, key, action, before, after, when, by whom), bumps the data
version once, bumps the revision (iCal SEQUENCE) of every round or session it touched, and
records the notifications the changes cause in the fan-out outbox (``notify/fanout.py``:
one row per change, expanded per subscription by the worker). Nothing else in the
service writes championship data.

Use it as::

    with write(app, actor="api:token-name") as w:
        w.upsert_session(round_, "race-1", {...})
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session as OrmSession

from .domain import rules
from .domain.change_values import encode_value
from .domain.choices import (
    ARTICLE_STATUSES,
    RESULT_OUTCOMES,
    RESULTS_STATUSES,
    ROUND_STATUSES,
    SESSION_KINDS,
    SESSION_STATUSES,
)
from .domain.keys import round_key, session_key
from .domain.models import (
    Article,
    Championship,
    Change,
    Circuit,
    Competitor,
    Entry,
    EntryDriver,
    Result,
    Round,
    Session,
    SlugRedirect,
    Team,
)
from .domain.timesheet import derive_class_positions
from .domain.timing import is_ambiguous
from .notify import fanout
from .notify.models import WebhookSubscription
from .publish.jobs import request_publish, scopes_for_changes
from .store.data_version import DataState, forget_data_version
from .store.engine import write_session

# The fields that make up "when and whether" a session or round happens. A change to any of
# them records all of them, so schedule-change entries can be described from the record alone.
SESSION_SCHEDULE_FIELDS = ("local_date", "local_time", "fold", "duration_minutes", "status")
# "No utc_offset in this write": keep the occurrence an unmoved session already has.
_KEEP = object()
ROUND_SCHEDULE_FIELDS = ("start_date", "end_date", "status", "circuit")


class WriteError(ValueError):
    """A change that breaks a domain rule. ``field`` names what is at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InUseError(Exception):
    """A deletion refused because other objects still refer to the object (409)."""

    def __init__(self, what: str, refs: list[str]) -> None:
        shown = ", ".join(refs[:20]) + (f" and {len(refs) - 20} more" if len(refs) > 20 else "")
        super().__init__(f"{what} is still referred to by {shown}")
        self.what = what
        self.refs = refs
        self.message = str(self)


# Timing-sheet fields of a result line, kept in the change record only when given, so that
# classifications without them record exactly what they always did.
RESULT_TIMING_FIELDS = ("laps", "total_time_ms", "gap_ms", "gap_laps", "best_lap_ms")


def utc_now() -> dt.datetime:
    """The current instant in UTC."""
    return dt.datetime.now(dt.UTC)


@contextmanager
def write(
    app: Flask | None = None, actor: str = "system", now: dt.datetime | None = None
) -> Iterator[Writer]:
    """Open one write transaction; commit on success, roll back everything on any error."""
    with write_session(app) as session:
        # Serialise writers on the data-state row (PostgreSQL; SQLite already holds its write
        # lock from BEGIN IMMEDIATE), so a read-check-write such as If-Match cannot interleave.
        session.execute(select(DataState.id).where(DataState.id == 1).with_for_update())
        writer = Writer(session, actor, now or utc_now())
        yield writer
        # In the same transaction: no change without its notifications, and none without it.
        # One outbox row per announced change; the worker expands it per subscription.
        fanout.record(session, writer.changes, writer.now)
        request_publish(session, scopes_for_changes(writer.changes), writer.now)
        session.flush()
    # Committed: this process's feeds must see the new data version on the next request.
    forget_data_version(app or current_app)


class Writer:
    """Applies changes within one open transaction. Create it through ``write()``."""

    def __init__(self, session: OrmSession, actor: str, now: dt.datetime) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.changes: list[Change] = []
        self._version: int | None = None

    # -- the change record -------------------------------------------------------------

    def _bump_version(self) -> int:
        if self._version is None:
            # The UPDATE takes the row lock, so concurrent writers get distinct versions.
            self.session.execute(
                update(DataState)
                .where(DataState.id == 1)
                .values(version=DataState.version + 1, changed_at=self.now)
            )
            self._version = self.session.execute(
                select(DataState.version).where(DataState.id == 1)
            ).scalar_one()
        return self._version

    def record(
        self,
        entity: str,
        key: str,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        championship: str | None = None,
    ) -> Change:
        """Append a change entry to the record (and bump the data version once)."""
        change = Change(
            at=self.now,
            actor=self.actor,
            entity=entity,
            key=key,
            action=action,
            before=_jsonify(before),
            after=_jsonify(after),
            championship=championship,
            data_version=self._bump_version(),
        )
        self.session.add(change)
        self.changes.append(change)
        return change

    def mark_seeded(self) -> None:
        """Note that the first-start seed has been imported."""
        state = self.session.get(DataState, 1)
        if state is not None and not state.seeded:
            state.seeded = True

    # -- generic upsert ----------------------------------------------------------------

    def _apply(
        self,
        obj: Any,
        fields: dict[str, Any],
        entity: str,
        key: str,
        championship: str | None,
        created: bool,
        on_change: Callable[[Any], None] | None = None,
        context: tuple[str, ...] = (),
    ) -> Change | None:
        """Write ``fields`` to ``obj`` and record what changed.

        When any of the ``context`` fields changed, all of them go into before and after, so
        that a change entry can be described on its own later ("moved from Sun 2 July 14:00
        to 15:30" needs the date even when only the time changed).
        """
        if created:
            for name, value in fields.items():
                setattr(obj, name, value)
            if on_change:
                on_change(obj)
            self.session.add(obj)
            self.session.flush()
            return self.record(entity, key, "created", None, fields, championship)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for name, value in fields.items():
            old = getattr(obj, name)
            if _comparable(old) != _comparable(value):
                before[name] = old
                after[name] = value
                setattr(obj, name, value)
        if not after:
            return None
        if context and set(after) & set(context):
            for name in context:
                if name not in after:
                    before[name] = after[name] = getattr(obj, name)
        if on_change:
            on_change(obj)
        self.session.flush()
        return self.record(entity, key, "updated", before, after, championship)

    def _touch(self, obj: Round | Session) -> None:
        obj.revision = (obj.revision or 0) + 1
        obj.updated_at = self.now

    # -- registries --------------------------------------------------------------------

    def _upsert_slugged(
        self,
        model: type[Any],
        slug: str,
        fields: dict[str, Any],
        entity: str,
        key: str,
        championship: str | None = None,
    ) -> tuple[Any, Change | None, bool]:
        """Create or update an object identified by its slug alone."""
        _require(rules.check_slug(slug), "slug")
        obj = self._by_slug(model, slug)
        created = obj is None
        obj = obj or model(slug=slug)
        return obj, self._apply(obj, fields, entity, key, championship, created), created

    def upsert_circuit(self, slug: str, fields: dict[str, Any]) -> Circuit:
        """Create or update a circuit by slug."""
        _require(rules.check_zone(fields["timezone"]), "timezone")
        circuit, change, created = self._upsert_slugged(
            Circuit, slug, fields, "circuit", f"circuits/{slug}"
        )
        if change and not created and {"timezone", "name", "locality"} & set(change.after or {}):
            # Moving a circuit's zone moves every session there: their SEQUENCE must go up.
            for round_ in self.session.scalars(select(Round).where(Round.circuit == circuit)):
                self._recheck_wall_times(round_, "timezone")
                self._touch(round_)
                for s in round_.sessions:
                    self._touch(s)
        return circuit

    def upsert_team(self, slug: str, fields: dict[str, Any]) -> Team:
        """Create or update a team by slug."""
        return self._upsert_slugged(Team, slug, fields, "team", f"teams/{slug}")[0]

    def upsert_competitor(self, slug: str, fields: dict[str, Any]) -> Competitor:
        """Create or update a competitor (driver) by slug."""
        return self._upsert_slugged(Competitor, slug, fields, "competitor", f"competitors/{slug}")[
            0
        ]

    # -- championships -----------------------------------------------------------------

    def upsert_championship(self, slug: str, fields: dict[str, Any]) -> Championship:
        """Create or update a championship by slug."""
        return self._upsert_slugged(Championship, slug, fields, "championship", slug, slug)[0]

    def upsert_entry(
        self,
        championship: Championship,
        slug: str,
        fields: dict[str, Any],
        drivers: list[Competitor],
    ) -> Entry:
        """Create or update an entry (a car, its team and its drivers) of a championship."""
        _require(rules.check_slug(slug), "slug")
        if not drivers:
            raise WriteError("drivers", "an entry needs at least one driver")
        entry = self.session.scalar(
            select(Entry).where(Entry.championship == championship, Entry.slug == slug)
        )
        created = entry is None
        entry = entry or Entry(slug=slug, championship=championship)
        team = fields.get("team")
        values = {
            "team": team,
            "car": fields.get("car"),
            "number": fields.get("number"),
            "car_class": fields.get("car_class"),
        }
        key = f"{championship.slug}/entries/{slug}"
        old_drivers = [] if created else [c.slug for c in entry.competitors]
        new_drivers = [c.slug for c in drivers]
        snapshot = {k: (v.slug if isinstance(v, Team) else v) for k, v in values.items()}
        if created:
            for name, value in values.items():
                setattr(entry, name, value)
            entry.drivers = [EntryDriver(competitor=c, position=i) for i, c in enumerate(drivers)]
            self.session.add(entry)
            self.session.flush()
            self.record(
                "entry",
                key,
                "created",
                None,
                {**snapshot, "drivers": new_drivers},
                championship.slug,
            )
            return entry
        before_values = {
            "team": entry.team.slug if entry.team else None,
            "car": entry.car,
            "number": entry.number,
            "car_class": entry.car_class,
        }
        before = {k: v for k, v in before_values.items() if v != snapshot[k]}
        after = {k: snapshot[k] for k in before}
        if old_drivers != new_drivers:
            before["drivers"] = old_drivers
            after["drivers"] = new_drivers
            entry.drivers.clear()
            self.session.flush()
            entry.drivers.extend(
                EntryDriver(competitor=c, position=i) for i, c in enumerate(drivers)
            )
        if not after:
            return entry
        for name, value in values.items():
            setattr(entry, name, value)
        self.session.flush()
        self.record("entry", key, "updated", before, after, championship.slug)
        return entry

    def upsert_round(
        self, championship: Championship, number: int, fields: dict[str, Any]
    ) -> Round:
        """Create or update a round, addressed by its number within the championship."""
        if number < 1:
            raise WriteError("number", "a round number is 1 or more")
        _require(rules.check_date_order(fields["start_date"], fields["end_date"]), "end")
        status = fields.get("status", "scheduled")
        if status not in ROUND_STATUSES:
            raise WriteError("status", f"must be one of {', '.join(ROUND_STATUSES)}")
        round_ = self.session.scalar(
            select(Round).where(Round.championship == championship, Round.number == number)
        )
        created = round_ is None
        if not created:
            for s in round_.sessions:
                if s.local_date is not None:
                    _require(
                        rules.check_session_day(
                            s.local_date, fields["start_date"], fields["end_date"]
                        ),
                        "start",
                    )
        round_ = round_ or Round(championship=championship, number=number, revision=0)
        circuit_before = None if created else round_.circuit_id
        values = {**fields, "status": status}
        key = round_key(championship.slug, number)
        if created:
            round_.updated_at = self.now
            self._apply(round_, values, "round", key, championship.slug, True)
            return round_
        change = self._apply(
            round_,
            values,
            "round",
            key,
            championship.slug,
            False,
            on_change=self._touch,
            context=ROUND_SCHEDULE_FIELDS,
        )
        if change is not None and round_.circuit_id != circuit_before:
            self._recheck_wall_times(round_, "circuit")
            for s in round_.sessions:
                self._touch(s)
        return round_

    def upsert_session(self, round_: Round, slug: str, fields: dict[str, Any]) -> Session:
        """Create or update a session of a round, addressed by its slug within the round."""
        _require(rules.check_slug(slug), "slug")
        kind = fields.get("kind", "other")
        if kind not in SESSION_KINDS:
            raise WriteError("kind", f"must be one of {', '.join(SESSION_KINDS)}")
        status = fields.get("status", "scheduled")
        if status not in SESSION_STATUSES:
            raise WriteError("status", f"must be one of {', '.join(SESSION_STATUSES)}")
        day = fields.get("local_date")
        if day is not None:
            _require(rules.check_session_day(day, round_.start_date, round_.end_date), "date")
        elif fields.get("local_time") is not None:
            raise WriteError("time", "a time needs a date")
        duration = fields.get("duration_minutes")
        if duration is not None and not 0 < duration <= 7 * 24 * 60:
            raise WriteError("duration", "a duration is between 1 minute and 7 days")
        session = self.session.scalar(
            select(Session).where(Session.round == round_, Session.slug == slug)
        )
        fold = self._fold(round_, session, fields)
        fields = {k: v for k, v in fields.items() if k != "utc_offset"} | {"fold": fold}
        # Build the key before creating the row: attaching it to the round autoflushes.
        key = session_key(round_.championship.slug, round_.number, slug)
        created = session is None
        session = session or Session(round=round_, slug=slug, revision=0)
        values = {**fields, "kind": kind, "status": status}
        if created:
            session.updated_at = self.now
            self._apply(session, values, "session", key, round_.championship.slug, True)
            return session
        self._apply(
            session,
            values,
            "session",
            key,
            round_.championship.slug,
            False,
            on_change=self._touch,
            context=SESSION_SCHEDULE_FIELDS,
        )
        return session

    def _fold(self, round_: Round, session: Session | None, fields: dict[str, Any]) -> int:
        """Check the wall time exists in the circuit's zone and choose its occurrence.

        ``fields["utc_offset"]`` names the occurrence; when the key is absent, an unmoved
        session keeps the one it had and a moved one takes the first (RFC 5545 §3.3.5).
        """
        fields = dict(fields)
        offset = fields.pop("utc_offset", None) if "utc_offset" in fields else _KEEP
        day, time = fields.get("local_date"), fields.get("local_time")
        zone_name = round_.circuit.timezone
        if day is not None and time is not None:
            _require(rules.check_local_time(day, time, zone_name), "local_time")
        if offset is _KEEP:
            unmoved = session is not None and (session.local_date, session.local_time) == (
                day,
                time,
            )
            return (session.fold or 0) if unmoved and session is not None else 0
        fold, problem = rules.choose_fold(day, time, zone_name, offset)
        _require(problem, "utc_offset")
        return fold

    def _recheck_wall_times(self, round_: Round, field: str) -> None:
        """After a round's circuit or a circuit's zone changed: every timed session must still
        exist in the zone it is now in (its occurrence choice carries over when it can)."""
        for s in round_.sessions:
            if s.local_date is None or s.local_time is None:
                continue
            problem = rules.check_local_time(s.local_date, s.local_time, round_.circuit.timezone)
            if problem:
                raise WriteError(field, f"session {s.slug!r}: {problem}")
            if s.fold and not is_ambiguous(
                dt.datetime.combine(s.local_date, s.local_time), round_.circuit.timezone
            ):
                s.fold = 0

    def set_results(
        self,
        session: Session,
        status: str,
        lines: list[dict[str, Any]],
        published_at: dt.datetime | None = None,
        note: str | None = None,
    ) -> Change | None:
        """Publish, correct or withdraw a session's results as a whole classification.

        ``lines`` hold ``entry`` (Entry), optional ``driver`` (Competitor), ``position``,
        ``outcome``, ``class_position`` and ``note``.
        """
        if status not in RESULTS_STATUSES:
            raise WriteError("status", f"must be one of {', '.join(RESULTS_STATUSES)}")
        championship = session.round.championship
        self._check_result_lines(championship, lines)
        derived = derive_class_positions(lines, (line["entry"].car_class for line in lines))
        lines = [{**line, "class_position": cp} for line, cp in zip(lines, derived, strict=True)]
        new_lines = [_result_snapshot(line) for line in lines]
        old_lines = [_result_snapshot(_result_fields(r)) for r in session.results]
        old_status = session.results_status
        if old_status == status and old_lines == new_lines and session.results_note == note:
            return None
        if status == "published":
            action = "corrected" if old_status == "published" else "published"
        elif status == "withdrawn":
            action = "withdrawn"
        else:
            action = "cleared"
        if old_lines != new_lines:
            session.results.clear()
            self.session.flush()
            session.results.extend(
                Result(
                    entry=line["entry"],
                    driver=line.get("driver"),
                    position=line.get("position"),
                    outcome=line.get("outcome", "classified"),
                    class_position=line.get("class_position"),
                    note=line.get("note"),
                    **{name: line.get(name) for name in RESULT_TIMING_FIELDS},
                )
                for line in lines
            )
        session.results_status = status
        session.results_note = note
        if action == "published" and session.results_published_at is None:
            session.results_published_at = published_at or self.now
        session.results_updated_at = (
            published_at if action == "published" and published_at else self.now
        )
        session.results_revision = (session.results_revision or 0) + 1
        self._touch(session)
        self.session.flush()
        key = session_key(championship.slug, session.round.number, session.slug)
        return self.record(
            "results",
            key,
            action,
            {"status": old_status, "lines": old_lines},
            {"status": status, "lines": new_lines, "note": note},
            championship.slug,
        )

    def _check_result_lines(self, championship: Championship, lines: list[dict[str, Any]]) -> None:
        for index, line in enumerate(lines):
            where = f"results[{index}]"
            entry: Entry = line["entry"]
            if entry.championship_id != championship.id:
                raise WriteError(
                    f"{where}.entry", f"{entry.slug!r} is not entered in this championship"
                )
            driver = line.get("driver")
            if driver is not None and driver not in entry.competitors:
                raise WriteError(
                    f"{where}.driver", f"{driver.slug!r} is not a driver of entry {entry.slug!r}"
                )
            outcome = line.get("outcome", "classified")
            if outcome not in RESULT_OUTCOMES:
                raise WriteError(f"{where}.outcome", f"must be one of {', '.join(RESULT_OUTCOMES)}")
            _require(rules.check_result_line(outcome, line.get("position")), f"{where}.position")
        for dup in rules.duplicates(ln.get("position") for ln in lines if ln.get("position")):
            raise WriteError("results", f"position {dup} appears more than once")
        for dup in rules.duplicates(ln["entry"].slug for ln in lines):
            raise WriteError("results", f"entry {dup!r} appears more than once")

    # -- articles ----------------------------------------------------------------------

    def upsert_article(self, slug: str, fields: dict[str, Any]) -> Article:
        """Create, edit, publish or unpublish an article by slug."""
        _require(rules.check_slug(slug), "slug")
        status = fields.get("status", "published")
        if status not in ARTICLE_STATUSES:
            raise WriteError("status", f"must be one of {', '.join(ARTICLE_STATUSES)}")
        article = self._by_slug(Article, slug)
        created = article is None
        article = article or Article(slug=slug)
        values = {**fields, "status": status}
        if created:
            values.setdefault("updated_at", values["published_at"])
        championship = (values.get("championships") or [None])[0]
        key = f"articles/{slug}"
        if created:
            change = self._apply(article, values, "article", key, championship, True)
            change.action = "published" if status == "published" else "created"
            return article
        old_status = article.status
        change = self._apply(
            article,
            values,
            "article",
            key,
            championship,
            False,
            on_change=self._stamp_article if "updated_at" not in values else None,
        )
        if change is not None and old_status != status:
            change.action = "published" if status == "published" else "unpublished"
        return article

    def _stamp_article(self, article: Article) -> None:
        article.updated_at = self.now

    # -- slugs, deletions and new seasons ------------------------------------------------

    def change_slug(self, entity: str, obj: Circuit | Team | Competitor, new_slug: str) -> None:
        """Give a circuit, team or competitor a new slug; the old one redirects for good.

        References kept by slug (articles, webhook filters, earlier redirects) follow it.
        """
        _require(rules.check_slug(new_slug), "slug")
        old_slug = obj.slug
        if old_slug == new_slug:
            return
        if self._by_slug(type(obj), new_slug) is not None:
            raise WriteError("slug", f"{entity} {new_slug!r} already exists")
        obj.slug = new_slug
        redirects = self.session.scalars(
            select(SlugRedirect).where(SlugRedirect.entity == entity)
        ).all()
        for redirect in redirects:
            if redirect.new_slug == old_slug:
                redirect.new_slug = new_slug  # chains collapse: every old slug goes straight
        for redirect in redirects:
            if redirect.old_slug == new_slug:
                self.session.delete(redirect)  # the slug is back in use by its object
        self.session.add(
            SlugRedirect(entity=entity, old_slug=old_slug, new_slug=new_slug, at=self.now)
        )
        if entity == "competitor":
            for article in self.session.scalars(select(Article)):
                if old_slug in (article.competitors or []):
                    article.competitors = [
                        new_slug if c == old_slug else c for c in article.competitors
                    ]
            for sub in self.session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.competitor == old_slug)
            ):
                sub.competitor = new_slug
        self.session.flush()
        self.record(
            entity,
            f"{entity}s/{old_slug}",
            "slug changed",
            {"slug": old_slug},
            {"slug": new_slug, "redirect": f"{old_slug} -> {new_slug}"},
        )

    def delete(self, entity: str, obj: Circuit | Team | Competitor | Entry) -> None:
        """Delete an object nothing refers to; otherwise raise InUseError naming the referrers."""
        refs = self._references(entity, obj)
        if refs:
            raise InUseError(f"{entity} {obj.slug!r}", refs)
        if isinstance(obj, Entry):
            key = f"{obj.championship.slug}/entries/{obj.slug}"
            championship: str | None = obj.championship.slug
            before = {
                "team": obj.team.slug if obj.team else None,
                "car": obj.car,
                "number": obj.number,
                "car_class": obj.car_class,
                "drivers": [c.slug for c in obj.competitors],
            }
        else:
            key, championship = f"{entity}s/{obj.slug}", None
            before = {"slug": obj.slug, "name": obj.name}
        if not isinstance(obj, Entry):
            # Old slugs that led here would now lead nowhere: they become plain 404s.
            for redirect in self.session.scalars(
                select(SlugRedirect).where(
                    SlugRedirect.entity == entity, SlugRedirect.new_slug == obj.slug
                )
            ):
                self.session.delete(redirect)
        self.session.delete(obj)
        self.session.flush()
        self.record(entity, key, "deleted", before, None, championship)

    def _references(self, entity: str, obj: Any) -> list[str]:
        """What still refers to ``obj``, each named by its public identifier."""
        found: list[str] = []
        if isinstance(obj, Circuit):
            found += [
                f"round {r.championship.slug}/{r.number}"
                for r in self.session.scalars(select(Round).where(Round.circuit_id == obj.id))
            ]
        elif isinstance(obj, Team):
            found += [
                f"entry {e.championship.slug}/{e.slug}"
                for e in self.session.scalars(select(Entry).where(Entry.team_id == obj.id))
            ]
        elif isinstance(obj, Competitor):
            links = select(EntryDriver).where(EntryDriver.competitor_id == obj.id)
            found += [
                f"entry {d.entry.championship.slug}/{d.entry.slug}"
                for d in self.session.scalars(links)
            ]
            credited = select(Result).where(Result.driver_id == obj.id)
            found += [
                f"result in {_session_ref(r.session)}" for r in self.session.scalars(credited)
            ]
            found += [
                f"article {a.slug}"
                for a in self.session.scalars(select(Article))
                if obj.slug in (a.competitors or [])
            ]
        elif isinstance(obj, Entry):
            results = select(Result).where(Result.entry_id == obj.id)
            found += [f"result in {_session_ref(r.session)}" for r in self.session.scalars(results)]
        return sorted(set(found))

    def copy_championship(
        self, source: Championship, slug: str, season: int, name: str | None = None
    ) -> Championship:
        """Start a new season from ``source``: same entries and rounds, no results.

        Round dates move on by whole weeks to the same weekend a year later and every round
        is provisional, so they read as dates still to be set; sessions keep their names and
        kinds but no day or time.
        """
        if self._by_slug(Championship, slug) is not None:
            raise WriteError("slug", f"championship {slug!r} already exists")
        if season <= source.season:
            raise WriteError("season", f"the new season must come after {source.season}")
        # Whole weeks keep each round on the same days of the week (a weekend stays one).
        shift = dt.timedelta(weeks=52 * (season - source.season))
        fields = {
            "name": name or source.name.replace(str(source.season), str(season)),
            "series": source.series,
            "season": season,
            "short_name": source.short_name,
            "description": source.description,
            "website": source.website,
        }
        copy = self.upsert_championship(slug, fields)
        for entry in source.entries:
            self.upsert_entry(
                copy,
                entry.slug,
                {
                    "team": entry.team,
                    "car": entry.car,
                    "number": entry.number,
                    "car_class": entry.car_class,
                },
                entry.competitors,
            )
        for round_ in source.rounds:
            new_round = self.upsert_round(
                copy,
                round_.number,
                {
                    "name": round_.name,
                    "circuit": round_.circuit,
                    "start_date": round_.start_date + shift,
                    "end_date": round_.end_date + shift,
                    "status": "provisional",
                    "field_size": None,
                    "note": None,
                },
            )
            for s in round_.sessions:
                self.upsert_session(
                    new_round,
                    s.slug,
                    {
                        "name": s.name,
                        "kind": s.kind,
                        "position": s.position,
                        "local_date": None,
                        "local_time": None,
                        "duration_minutes": s.duration_minutes,
                        "time_note": None,
                        "status": "scheduled",
                    },
                )
        return copy

    # -- helpers -----------------------------------------------------------------------

    def _by_slug(self, model: type[Any], slug: str) -> Any:
        return self.session.scalar(select(model).where(model.slug == slug))


def _session_ref(session: Session) -> str:
    return session_key(session.round.championship.slug, session.round.number, session.slug)


def _require(problem: str | None, field: str) -> None:
    if problem:
        raise WriteError(field, problem)


def _comparable(value: Any) -> Any:
    if hasattr(value, "slug") and hasattr(value, "id"):
        return ("ref", type(value).__name__, value.id)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


def _jsonify(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: _snapshot_value(v) for k, v in values.items()}


def _snapshot_value(value: Any) -> Any:
    if hasattr(value, "slug"):
        return value.slug
    if isinstance(value, list):
        return [_snapshot_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _snapshot_value(v) for k, v in value.items()}
    return encode_value(value)


def _result_fields(result: Result) -> dict[str, Any]:
    return {
        "entry": result.entry,
        "driver": result.driver,
        "position": result.position,
        "outcome": result.outcome,
        "class_position": result.class_position,
        "note": result.note,
        **{name: getattr(result, name) for name in RESULT_TIMING_FIELDS},
    }


def _result_snapshot(line: dict[str, Any]) -> dict[str, Any]:
    snapshot = {
        "entry": line["entry"].slug,
        "driver": line["driver"].slug if line.get("driver") else None,
        "position": line.get("position"),
        "outcome": line.get("outcome", "classified"),
        "class_position": line.get("class_position"),
        "note": line.get("note"),
    }
    snapshot.update(
        {name: line[name] for name in RESULT_TIMING_FIELDS if line.get(name) is not None}
    )
    return snapshot
