"""News items: articles, results and schedule changes, as one list of entries for the feeds.

Pure functions from loaded domain objects (and change-record rows) to ``NewsItem`` values.
Ids are ``tag:`` URIs built from the feed domain and slugs, never from database ids, with a
date that is fixed when the entry first appears, so an entry's id never changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from ..domain import wording
from ..domain.change_values import decode_value
from ..domain.keys import session_key
from ..domain.models import Article, Change, Competitor, Result, Round, Session
from ..domain.site import Site
from ..domain.timesheet import format_gap, format_time
from ..domain.timing import SessionTime, localize
from .markup import markdown_to_html


@dataclass(frozen=True)
class NewsItem:
    """One feed entry, whatever its kind."""

    id: str
    kind: str  # "article", "results" or "schedule"
    title: str
    url: str
    published: dt.datetime
    updated: dt.datetime
    content_html: str
    summary: str | None
    author: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """Which entries a feed carries: everything, one championship, or one competitor."""

    championships: frozenset[str] | None = None  # None: every championship
    competitor: str | None = None

    def covers(self, championship_slugs: Iterable[str]) -> bool:
        """Whether an entry about these championships belongs in the feed."""
        return self.championships is None or bool(self.championships & set(championship_slugs))


def _clock(st: SessionTime, with_zone: bool) -> str:
    assert st.start_local is not None and st.start_utc is not None
    text = f"{st.start_local:%H:%M}"
    if with_zone:
        text += f" {st.start_local:%Z} ({st.start_utc:%H:%M} UTC)"
    return text


def _when(
    date: dt.date | None, time: dt.time | None, zone_name: str, with_zone: bool, fold: int = 0
) -> str:
    """ "Sun 2 July 14:00", "Sun 2 July 14:00 CEST (12:00 UTC)", "Sun 2 July, time TBC"."""
    if date is None:
        return "date and time TBC"
    if time is None:
        return f"{wording.day_text(date)}, {wording.TIME_TBC}"
    start = localize(dt.datetime.combine(date, time), zone_name, fold)
    st = SessionTime(date, start, None, zone_name)
    return f"{wording.day_text(date)} {_clock(st, with_zone)}"


# -- articles -------------------------------------------------------------------------------


def article_item(article: Article, site: Site, names: dict[str, str]) -> NewsItem:
    """An article as an entry; ``names`` maps championship and competitor slugs to names."""
    links = "".join(
        f'<li><a href="{escape(link["url"])}">{escape(link["title"])}</a></li>'
        for link in article.links
    )
    content = markdown_to_html(article.body_markdown)
    if links:
        content += f"<ul>{links}</ul>"
    categories = tuple(
        names.get(slug, slug) for slug in (*article.championships, *article.competitors)
    )
    return NewsItem(
        id=site.tag(article.published_at, f"articles/{article.slug}"),
        kind="article",
        title=article.title,
        url=site.url(f"/news/{article.slug}"),
        published=article.published_at,
        updated=article.updated_at,
        content_html=content,
        summary=article.summary,
        author=article.author or "gridfeed",
        categories=categories,
    )


# -- results --------------------------------------------------------------------------------


def results_table(session: Session, highlight: str | None = None) -> str:
    """The classification as an HTML table (everything escaped). Timing-sheet columns (car
    number, class, laps, time or gap, best lap) appear only when some line has them."""
    ordered = sorted(session.results, key=_result_order)
    timing = [c for c in TIMING_COLUMNS if any(c[1](r) for r in ordered)]
    rows = []
    for r in ordered:
        drivers = ", ".join(c.name for c in r.credited)
        car = " · ".join(x for x in (r.entry.team.name if r.entry.team else None, r.entry.car) if x)
        mark = (
            ' class="highlight"' if highlight and highlight in {c.slug for c in r.credited} else ""
        )
        extra = "".join(f"<td>{escape(column(r) or '')}</td>" for _, column in timing)
        outcome = wording.OUTCOME_LABELS.get(r.outcome, "Classified")
        rows.append(
            f"<tr{mark}><td>{r.position or ''}</td><td>{escape(drivers)}</td>"
            f"<td>{escape(car)}</td>{extra}<td>{escape(outcome)}"
            f"</td><td>{escape(r.note or '')}</td></tr>"
        )
    heads = "".join(f"<th>{name}</th>" for name, _ in timing)
    return (
        f"<table><thead><tr><th>Pos</th><th>Drivers</th><th>Team / car</th>{heads}<th>Outcome</th>"
        f"<th>Note</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _class_cell(result: Result) -> str | None:
    if result.entry.car_class is None:
        return None
    place = f" ({wording.ordinal(result.class_position)})" if result.class_position else ""
    return result.entry.car_class + place


def _time_or_gap(result: Result) -> str | None:
    return format_time(result.total_time_ms) or format_gap(result.gap_ms, result.gap_laps)


def _has_timing(result: Result) -> bool:
    return any(
        v is not None
        for v in (
            result.laps,
            result.total_time_ms,
            result.gap_ms,
            result.gap_laps,
            result.best_lap_ms,
        )
    )


# (heading, cell) of the timing-sheet columns; the car number shows with any timing data.
TIMING_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("No", lambda r: r.entry.number if _has_timing(r) or r.entry.car_class else None),
    ("Class", _class_cell),
    ("Laps", lambda r: None if r.laps is None else str(r.laps)),
    ("Time / gap", _time_or_gap),
    ("Best lap", lambda r: format_time(r.best_lap_ms)),
)


def _result_order(result: Result) -> tuple[int, int]:
    return (result.position is None, result.position or 0)


def results_item(
    session: Session, site: Site, competitor: Competitor | None, corrections: Sequence[Change]
) -> NewsItem:
    """The one entry for a session's results; a correction updates it in place."""
    label = wording.session_label(session)
    parts = []
    if competitor is not None:
        mine = [r for r in session.results if competitor in r.credited]
        for r in mine:
            parts.append(
                f"<p><strong>{escape(competitor.name)}: "
                f"{escape(wording.result_line_text(r))}</strong></p>"
            )
    if session.results_status == "withdrawn":
        parts.append("<p><strong>These results have been withdrawn.</strong></p>")
    for change in corrections:
        for sentence in describe_correction(change):
            parts.append(f"<p>Correction ({change.at:%d %b %Y %H:%M} UTC): {escape(sentence)}</p>")
    if session.results_note:
        parts.append(f"<p>{escape(session.results_note)}</p>")
    parts.append(results_table(session, competitor.slug if competitor else None))
    championship = session.round.championship
    published = session.results_published_at or session.updated_at
    return NewsItem(
        id=site.tag(
            published, f"results/{championship.slug}/{session.round.number}/{session.slug}"
        ),
        kind="results",
        title=f"{label}: results"
        + (" (withdrawn)" if session.results_status == "withdrawn" else ""),
        url=site.url(f"{wording.round_path(session.round)}#{session.slug}"),
        published=published,
        updated=session.results_updated_at or published,
        content_html="".join(parts),
        summary=None,
        author=championship.name,
        categories=(championship.name, session.name),
    )


# The fields of a result line a correction can change, as the change record names them.
CORRECTED_FIELDS = (
    "position",
    "outcome",
    "class_position",
    "driver",
    "note",
    "laps",
    "total_time_ms",
    "gap_ms",
    "gap_laps",
    "best_lap_ms",
)


def _correction_label(field: str) -> tuple[str, Any]:
    """How a corrected field is named and shown: times as a timing sheet prints them."""
    if field == "gap_ms":
        return "gap", lambda ms: format_gap(ms, None)
    if field == "gap_laps":
        return "gap", lambda laps: format_gap(None, laps)
    if field.endswith("_ms"):
        return field.removesuffix("_ms").replace("_", " "), format_time
    return field.replace("_", " "), lambda value: value


def describe_correction(change: Change) -> list[str]:
    """What a results correction changed, line by line, from the change record."""
    before = {line["entry"]: line for line in (change.before or {}).get("lines", [])}
    after = {line["entry"]: line for line in (change.after or {}).get("lines", [])}
    sentences = []
    for entry in sorted(set(before) | set(after)):
        old, new = before.get(entry), after.get(entry)
        if old is None:
            sentences.append(f"{entry} added")
        elif new is None:
            sentences.append(f"{entry} removed")
        else:
            for field in CORRECTED_FIELDS:
                if old.get(field) != new.get(field):
                    label, shown = _correction_label(field)
                    sentences.append(
                        f"{entry}: {label} {shown(old.get(field)) or '–'} → "
                        f"{shown(new.get(field)) or '–'}"
                    )
    return sentences or ["details updated"]


# -- schedule changes -----------------------------------------------------------------------


def schedule_item(change: Change, site: Site, objects: dict[str, Any]) -> NewsItem | None:
    """An entry for a change of a session's time or status, or a round's dates, place or
    status; None for anything else (creations, renames)."""
    obj = objects.get(change.key)
    if change.action != "updated" or obj is None:
        return None
    if change.entity == "session" and isinstance(obj, Session):
        title = describe_session_change(obj, change.before or {}, change.after or {})
        url = site.url(f"{wording.round_path(obj.round)}#{obj.slug}")
        championship = obj.round.championship
    elif change.entity == "round" and isinstance(obj, Round):
        title = describe_round_change(obj, change.before or {}, change.after or {})
        url = site.url(wording.round_path(obj))
        championship = obj.championship
    else:
        return None
    if title is None:
        return None
    return NewsItem(
        id=site.tag(change.at, f"changes/{change.key}/v{change.data_version}"),
        kind="schedule",
        title=title,
        url=url,
        published=change.at,
        updated=change.at,
        content_html=f"<p>{escape(title)}.</p>",
        summary=title,
        author=championship.name,
        categories=(championship.name, "Schedule change"),
    )


def describe_session_change(session: Session, before: dict, after: dict) -> str | None:
    """ "Spa-Francorchamps, Race 2 moved from Sun 2 July 14:00 to 15:30 CEST (13:30 UTC)"."""
    label = wording.session_label(session)
    zone_name = session.round.circuit.timezone
    old_status, new_status = before.get("status"), after.get("status")
    if old_status != new_status and new_status in {"cancelled", "postponed"}:
        return f"{label} {new_status}"
    old_date, new_date = (
        decode_value(before.get("local_date"), dt.date),
        decode_value(after.get("local_date"), dt.date),
    )
    old_time, new_time = (
        decode_value(before.get("local_time"), dt.time),
        decode_value(after.get("local_time"), dt.time),
    )
    old_fold, new_fold = before.get("fold") or 0, after.get("fold") or 0
    reinstated = old_status in {"cancelled", "postponed"} and new_status == "scheduled"
    if (old_date, old_time, old_fold) == (new_date, new_time, new_fold):
        if reinstated:
            return f"{label} reinstated: {_when(new_date, new_time, zone_name, True, new_fold)}"
        if before.get("duration_minutes") != after.get("duration_minutes"):
            minutes = after.get("duration_minutes")
            return f"{label} now lasts {minutes} minutes" if minutes else None
        return None
    new = _when(new_date, new_time, zone_name, True, new_fold)
    if reinstated:
        return f"{label} reinstated: {new}"
    if old_time is None and new_time is not None:
        return f"{label} time set: {new}"
    if old_date == new_date and new_time is not None:
        st = SessionTime(
            new_date,
            localize(dt.datetime.combine(new_date, new_time), zone_name, new_fold),
            None,
            zone_name,
        )
        return (
            f"{label} moved from {_when(old_date, old_time, zone_name, False, old_fold)} to "
            f"{_clock(st, True)}"
        )
    return f"{label} moved from {_when(old_date, old_time, zone_name, False, old_fold)} to {new}"


def _span(start: dt.date, end: dt.date) -> str:
    if start.month == end.month:
        return f"{start.day}–{end.day} {end:%B %Y}"
    return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"


def describe_round_change(round_: Round, before: dict, after: dict) -> str | None:
    """ "GT4 European Series 2023 round 3 moved from 29 June – 2 July 2023 to 6–9 July 2023"."""
    label = f"{round_.championship.name} round {round_.number} ({wording.round_label(round_)})"
    old_status, new_status = before.get("status"), after.get("status")
    if old_status != new_status:
        if new_status in {"cancelled", "postponed"}:
            return f"{label} {new_status}"
        if old_status == "provisional" and new_status == "scheduled":
            return f"{label} confirmed: {_span(round_.start_date, round_.end_date)}"
        if old_status in {"cancelled", "postponed"}:
            return f"{label} reinstated"
    if before.get("circuit") != after.get("circuit"):
        return f"{label} moves to {round_.circuit.name}"
    old = (
        decode_value(before.get("start_date"), dt.date),
        decode_value(before.get("end_date"), dt.date),
    )
    new = (
        decode_value(after.get("start_date"), dt.date),
        decode_value(after.get("end_date"), dt.date),
    )
    if old != new and None not in old and None not in new:
        return f"{label} moved from {_span(*old)} to {_span(*new)}"
    return None


# -- assembling a feed ----------------------------------------------------------------------


def assemble_items(
    *,
    site: Site,
    scope: Scope,
    names: dict[str, str],
    articles: Sequence[Article],
    sessions: Sequence[Session],
    corrections: Sequence[Change],
    changes: Sequence[Change],
    objects: dict[str, Any],
    competitor: Competitor | None = None,
    limit: int = 50,
) -> list[NewsItem]:
    """A feed's entries, newest first, at most ``limit``, from the candidates of each kind.

    ``articles`` and ``sessions`` (with results) must hold the newest ``limit`` of their kind
    in the scope (``domain.queries.newest_articles`` and ``newest_results_sessions``), so the
    feed's newest ``limit`` are among them; ``corrections`` the results corrections of those
    sessions, oldest first; ``changes`` the newest ``limit`` schedule changes, newest first,
    and ``objects`` the rounds and sessions they name, by key. ``names`` maps the slugs an
    article may show to names.
    """
    items = [article_item(article, site, names) for article in articles]
    by_key: dict[str, list[Change]] = {}
    for change in corrections:
        by_key.setdefault(change.key, []).append(change)
    for session in sessions:
        round_ = session.round
        key = session_key(round_.championship.slug, round_.number, session.slug)
        items.append(results_item(session, site, competitor, by_key.get(key, [])))
    for change in changes:
        if change.championship is None or not scope.covers([change.championship]):
            continue
        item = schedule_item(change, site, objects)
        if item is not None:
            items.append(item)
    items.sort(key=news_order, reverse=True)
    return items[:limit]


def news_order(item: NewsItem) -> tuple[dt.datetime, dt.datetime, str]:
    """The key feeds sort entries on (newest first when reversed)."""
    return (item.published, item.updated, item.id)


def feed_updated(items: Sequence[NewsItem], fallback: dt.datetime) -> dt.datetime:
    """The feed's own updated time: its newest entry change, from the data, never "now"."""
    return max((item.updated for item in items), default=fallback)


# -- sentences for notifications ------------------------------------------------------------


def describe_session_time(session: Session) -> str:
    """ "Sun 4 June 14:00 CEST (12:00 UTC)", or "Sun 4 June, time TBC"."""
    return _when(session.local_date, session.local_time, session.round.circuit.timezone, True)


def describe_results(session: Session, podium: int = 3) -> str:
    """ "Circuit Paul Ricard, Race 1 results: 1st A / B, 2nd C / D, 3rd E / F"."""
    label = f"{wording.session_label(session)} results"
    if session.results_status == "withdrawn":
        return f"{label} withdrawn"
    top = [r for r in sorted(session.results, key=_result_order) if r.position][:podium]
    if not top:
        return f"{label} published"
    lines = [f"{wording.ordinal(r.position)} {' / '.join(c.name for c in r.credited)}" for r in top]
    return f"{label}: {', '.join(lines)}"


def describe_reminder(session: Session, minutes: int) -> str:
    """ "Race 2 at Circuit Paul Ricard starts in 30 minutes — 14:00 CEST"."""
    zone_name = session.round.circuit.timezone
    if session.local_date is None or session.local_time is None:
        clock = "time TBC"
    else:
        start = localize(dt.datetime.combine(session.local_date, session.local_time), zone_name)
        clock = f"{start:%H:%M %Z}"
    place = wording.round_label(session.round)
    return f"{session.name} at {place} starts in {minutes} minutes — {clock}"
