"""What each calendar event says, as plain hashable values.

``session_facts`` is the one place that decides how a session becomes a VEVENT; ``round_facts``
does the same for a round's all-day "weekend" event. Equal facts always render to the same
bytes, which is what lets a rendered event be cached under its facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..domain import wording
from ..domain.choices import SESSION_KINDS
from ..domain.models import Championship, Competitor, Result, Round, Session
from ..domain.site import Site
from ..domain.timesheet import format_gap, format_time
from ..domain.timing import SessionTime, describe_local, session_time

PRODID = "-//gridfeed//gridfeed calendars 1.0//EN"
WEEKEND = "weekend"
# Every value `include=`/`exclude=` accept: the session kinds plus the round's all-day event.
SELECTABLE_KINDS = (*SESSION_KINDS, WEEKEND)
KIND_LABELS = {
    "practice": "Practice",
    "qualifying": "Qualifying",
    "race": "Race",
    "test": "Test",
    "other": "Other",
    WEEKEND: "Weekend",
}
# How many classified lines a championship feed shows in a session's description.
TOP_OF_ORDER = 10
FRAGMENTS_EXTENSION = "gridfeed.calendar_fragments"


@dataclass(frozen=True)
class CalendarOptions:
    """What a subscriber asked for. ``include`` None means every kind, present and future."""

    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    alarms: tuple[int, ...] = ()
    utc: bool = False

    def selects(self, kind: str) -> bool:
        """Whether events of ``kind`` (a session kind or ``weekend``) are in the feed."""
        if kind in self.exclude:
            return False
        return self.include is None or kind in self.include

    @property
    def query(self) -> str:
        """The options as a query string in one canonical order ("" for none): the same
        options always spell the same URL, whose stored bytes and ETag they share."""
        # Repeated parameters rather than comma lists: commas in a URI trip some iCal parsers.
        query = [f"include={kind}" for kind in sorted(self.include or ())]
        query.extend(f"exclude={kind}" for kind in sorted(self.exclude))
        query.extend(f"alarm={minutes}" for minutes in self.alarms)
        if self.utc:
            query.append("tz=utc")
        return "&".join(query)


@dataclass(frozen=True)
class CalendarMeta:
    """The calendar's own properties."""

    name: str
    description: str
    source_url: str | None = None


@dataclass(frozen=True)
class EventFacts:
    """Everything one VEVENT says. Equal facts always render to the same bytes."""

    uid: str
    sequence: int
    stamp: dt.datetime
    summary: str
    description: str
    status: str
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None
    location: str | None = None
    geo: tuple[float, float] | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()
    alarms: tuple[int, ...] = ()
    # The zone of a timed start ("UTC" with tz=utc), so facts that differ only in how the same
    # instant is written never share a cache entry.
    tzid: str | None = None


def event_uid(settings: Site, *parts: object) -> str:
    """A permanent UID from public identifiers: ``gt4-european-series-2023.2.race-1@domain``."""
    return ".".join(str(p) for p in parts) + "@" + settings.domain


def location_of(round_: Round) -> str:
    """ "Circuit Paul Ricard, Le Castellet, FR"."""
    circuit = round_.circuit
    return ", ".join(p for p in (circuit.name, circuit.locality, circuit.country_code) if p)


def geo_of(round_: Round) -> tuple[float, float] | None:
    """The circuit's coordinates, when known."""
    circuit = round_.circuit
    if circuit.latitude is None or circuit.longitude is None:
        return None
    return (circuit.latitude, circuit.longitude)


def session_facts(
    session: Session,
    options: CalendarOptions,
    settings: Site,
    competitor: Competitor | None = None,
) -> EventFacts | None:
    """How a session becomes a VEVENT. None when its day is unknown (it is then listed only
    in the round's description).

    Timed sessions start at the circuit's local time with its zone (or in UTC with
    ``tz=utc``); a session with a day but no time is an all-day TENTATIVE entry marked
    "(time TBC)". Cancelled and postponed sessions stay, as CANCELLED.
    """
    st = session_time(session)
    if st.date is None:
        return None
    round_ = session.round
    championship = round_.championship
    summary = f"{wording.short_title(championship)}: {session.name} – {round_.display_name}"
    if not st.timed:
        summary += f" ({wording.tbc_text(session)})"
    if round_.status == "provisional":
        summary += " (provisional)"
    summary = wording.status_word(session.status) + summary
    if session.status in ("cancelled", "postponed"):
        status = "CANCELLED"
    elif not st.timed or round_.status == "provisional":
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None
    # A wall time that happens twice (clocks going back) cannot say which occurrence it is
    # through a TZID, and readers disagree on it: write such a session in UTC, and say the
    # circuit's zone in the description (describe_local names it).
    in_utc = options.utc or (st.timed and st.wall_is_ambiguous)
    if st.timed:
        start, end = (st.start_utc, st.end_utc) if in_utc else (st.start_local, st.end_local)
    else:
        start, end = st.date, st.date + dt.timedelta(days=1)
    lines = [
        f"{championship.name}, round {round_.number}: {round_.display_name}",
        f"{session.name}: {session_when(session, st)}",
    ]
    if session.status != "scheduled":
        lines.append(f"Status: {session.status}")
    lines.extend(results_lines(session, competitor))
    lines.append(wording.round_url(settings, round_))
    return EventFacts(
        uid=event_uid(settings, championship.slug, round_.number, session.slug),
        sequence=session.revision,
        stamp=session.updated_at,
        summary=summary,
        description="\n".join(lines),
        status=status,
        start=start,
        end=end,
        location=location_of(round_),
        geo=geo_of(round_),
        url=wording.round_url(settings, round_),
        categories=(championship.name, KIND_LABELS.get(session.kind, session.kind)),
        alarms=options.alarms if st.timed else (),
        tzid=("UTC" if in_utc else st.zone) if st.timed else None,
    )


def session_when(session: Session, st: SessionTime) -> str:
    """The session's local day and time as a line of text, with the rough time if known."""
    text = describe_local(st)
    if st.date is not None and not st.timed and session.time_note:
        text += f" ({session.time_note})"
    return text


def results_lines(session: Session, competitor: Competitor | None) -> list[str]:
    """The results part of a session's description: the competitor's own result first (in a
    competitor feed), then the top of the order."""
    if session.results_status == "withdrawn":
        return ["Results withdrawn."]
    if session.results_status != "published" or not session.results:
        return []
    lines: list[str] = []
    if competitor is not None:
        own = [r for r in session.results if competitor in r.credited]
        lines.extend(f"{session.name}: {wording.result_text(r)}" for r in own)
    ordered = sorted(session.results, key=_order_key)[:TOP_OF_ORDER]
    lines.append("Results:")
    lines.extend(
        f"{wording.place_text(r)} {_who(r)}" + _timing(r) + (f" ({r.note})" if r.note else "")
        for r in ordered
    )
    if session.results_note:
        lines.append(session.results_note)
    return lines


def _order_key(result: Result) -> tuple[int, int]:
    return (0, result.position) if result.position else (1, result.id or 0)


def _timing(result: Result) -> str:
    """ ", 23 laps, 1:02:03.456, best 2:01.234" where the sheet gave them; else nothing."""
    parts = []
    if result.entry.car_class and result.class_position:
        parts.append(f"{result.entry.car_class} P{result.class_position}")
    if result.laps is not None:
        parts.append(f"{result.laps} laps")
    time_or_gap = format_time(result.total_time_ms) or format_gap(result.gap_ms, result.gap_laps)
    if time_or_gap:
        parts.append(time_or_gap)
    if result.best_lap_ms is not None:
        parts.append(f"best {format_time(result.best_lap_ms)}")
    return "".join(f", {p}" for p in parts)


def _who(result: Result) -> str:
    names = " / ".join(c.name for c in result.credited)
    entry = result.entry
    car = ", ".join(p for p in (entry.team.name if entry.team else None, entry.car) if p)
    return f"{names} ({car})" if car else names


def round_facts(round_: Round, settings: Site) -> EventFacts:
    """How a round becomes its all-day multi-day VEVENT (DTEND exclusive), listing sessions."""
    championship = round_.championship
    summary = f"{wording.short_title(championship)}: Round {round_.number} – {round_.display_name}"
    if round_.status == "provisional":
        summary += " (provisional)"
    summary = wording.status_word(round_.status) + summary
    status = {"provisional": "TENTATIVE", "cancelled": "CANCELLED", "postponed": "CANCELLED"}
    lines = [f"{championship.name}, round {round_.number}", location_of(round_)]
    if round_.status != "scheduled":
        lines.append(f"Status: {round_.status}")
    if round_.sessions:
        lines.append("Sessions (local time):")
        for s in round_.sessions:
            cancelled = f" [{s.status}]" if s.status != "scheduled" else ""
            lines.append(f"- {s.name}: {session_when(s, session_time(s))}{cancelled}")
    if round_.note:
        lines.append(round_.note)
    lines.append(wording.round_url(settings, round_))
    stamps = [round_.updated_at, *(s.updated_at for s in round_.sessions)]
    return EventFacts(
        uid=event_uid(settings, championship.slug, round_.number),
        sequence=round_.revision,
        stamp=max(stamps),
        summary=summary,
        description="\n".join(lines),
        status=status.get(round_.status, "CONFIRMED"),
        start=round_.start_date,
        end=round_.end_date + dt.timedelta(days=1),
        location=location_of(round_),
        geo=geo_of(round_),
        url=wording.round_url(settings, round_),
        categories=(championship.name, KIND_LABELS[WEEKEND]),
    )


def feed_facts(
    rounds: Iterable[Round],
    options: CalendarOptions,
    settings: Site,
    competitor: Competitor | None = None,
) -> list[EventFacts]:
    """The facts of every event the options select, in round and session order."""
    facts: list[EventFacts] = []
    for round_ in rounds:
        if options.selects(WEEKEND):
            facts.append(round_facts(round_, settings))
        for session in round_.sessions:
            if options.selects(session.kind):
                event = session_facts(session, options, settings, competitor)
                if event is not None:
                    facts.append(event)
    return facts


# -- rendering -------------------------------------------------------------------------


def current_and_next(seasons: Sequence[Championship], year: int) -> list[Championship]:
    """Of a series' championships (oldest first): the current season and the next one.

    The current season is the latest that is not after ``year`` (or the earliest published
    when all are later); the next is every championship of the season after it.
    """
    started = [c.season for c in seasons if c.season <= year]
    current = max(started) if started else min(c.season for c in seasons)
    return [c for c in seasons if c.season in (current, current + 1)]
