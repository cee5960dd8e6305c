"""The JSON API's view of the domain: pure functions from loaded objects to plain dicts.

Public identifiers only (slugs, round numbers); every time three ways (the circuit's local
wall time, its IANA zone, the UTC instant), with explicit nulls and ``time_tbc`` when unknown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .domain.models import (
    Article,
    Championship,
    Circuit,
    Competitor,
    Entry,
    Result,
    Round,
    Session,
    Team,
)
from .domain.timesheet import format_gap, format_time
from .domain.timing import session_time, utc_iso


def instant(value: dt.datetime | None) -> str | None:
    """An RFC 3339 UTC instant, or None."""
    return utc_iso(value) if value else None


def circuit_dict(circuit: Circuit) -> dict[str, Any]:
    """A circuit."""
    return {
        "slug": circuit.slug,
        "name": circuit.name,
        "locality": circuit.locality,
        "country": circuit.country_code,
        "timezone": circuit.timezone,
        "latitude": circuit.latitude,
        "longitude": circuit.longitude,
        "length_m": circuit.length_m,
        "url": f"/api/v1/circuits/{circuit.slug}",
    }


def team_dict(team: Team) -> dict[str, Any]:
    """A team."""
    return {
        "slug": team.slug,
        "name": team.name,
        "country": team.country_code,
        "url": f"/api/v1/teams/{team.slug}",
    }


def championship_dict(championship: Championship) -> dict[str, Any]:
    """A championship, with the numbers of its rounds."""
    return {
        "slug": championship.slug,
        "name": championship.name,
        "series": championship.series,
        "short_name": championship.short_name,
        "season": championship.season,
        "description": championship.description,
        "website": championship.website,
        "rounds": [r.number for r in championship.rounds],
        "url": f"/api/v1/championships/{championship.slug}",
    }


def round_dict(round_: Round) -> dict[str, Any]:
    """A round, with its sessions."""
    slug = round_.championship.slug
    return {
        "championship": slug,
        "number": round_.number,
        "name": round_.display_name,
        "circuit": circuit_dict(round_.circuit),
        "start_date": round_.start_date.isoformat(),
        "end_date": round_.end_date.isoformat(),
        "status": round_.status,
        "field_size": round_.field_size,
        "note": round_.note,
        "revision": round_.revision,
        "updated_at": instant(round_.updated_at),
        "sessions": [session_dict(s) for s in round_.sessions],
        "url": f"/api/v1/championships/{slug}/rounds/{round_.number}",
    }


def session_dict(session: Session) -> dict[str, Any]:
    """A session: its time three ways, status and revision (iCal SEQUENCE)."""
    st = session_time(session)
    round_ = session.round
    slug = round_.championship.slug
    return {
        "championship": slug,
        "round": round_.number,
        "slug": session.slug,
        "name": session.name,
        "kind": session.kind,
        "status": session.status,
        "local_date": session.local_date.isoformat() if session.local_date else None,
        "local_time": session.local_time.strftime("%H:%M") if session.local_time else None,
        "local_start": st.start_local.isoformat() if st.start_local else None,
        "timezone": st.zone,
        "start_utc": instant(st.start_utc),
        "end_utc": instant(st.end_utc),
        "duration_minutes": session.duration_minutes,
        "time_tbc": not st.timed,
        "time_note": session.time_note,
        "revision": session.revision,
        "updated_at": instant(session.updated_at),
        "results_status": session.results_status,
        "url": f"/api/v1/championships/{slug}/rounds/{round_.number}/sessions/{session.slug}",
    }


def result_line_dict(result: Result) -> dict[str, Any]:
    """One classification line."""
    return {
        "entry": result.entry.slug,
        "driver": result.driver.slug if result.driver else None,
        "competitors": [c.slug for c in result.credited],
        "position": result.position,
        "outcome": result.outcome,
        "class_position": result.class_position,
        "note": result.note,
        "number": result.entry.number,
        "class": result.entry.car_class,
        "laps": result.laps,
        "total_time": format_time(result.total_time_ms),
        "gap": format_gap(result.gap_ms, result.gap_laps),
        "best_lap": format_time(result.best_lap_ms),
    }


def results_dict(session: Session) -> dict[str, Any]:
    """A session's results as a whole."""
    return {
        "session": session_dict(session),
        "status": session.results_status,
        "published_at": instant(session.results_published_at),
        "updated_at": instant(session.results_updated_at),
        "revision": session.results_revision,
        "note": session.results_note,
        "lines": [result_line_dict(r) for r in session.results],
    }


def entry_dict(entry: Entry) -> dict[str, Any]:
    """An entry (car) of a championship."""
    return {
        "championship": entry.championship.slug,
        "slug": entry.slug,
        "team": entry.team.slug if entry.team else None,
        "car": entry.car,
        "number": entry.number,
        "class": entry.car_class,
        "drivers": [c.slug for c in entry.competitors],
        "url": f"/api/v1/championships/{entry.championship.slug}/entries/{entry.slug}",
    }


def competitor_dict(competitor: Competitor, entries: list[Entry]) -> dict[str, Any]:
    """A competitor with the entries they drive in."""
    return {
        "slug": competitor.slug,
        "name": competitor.name,
        "country": competitor.country_code,
        "entries": [entry_dict(e) for e in entries],
        "url": f"/api/v1/competitors/{competitor.slug}",
    }


def article_dict(article: Article) -> dict[str, Any]:
    """An article, its body as Markdown."""
    return {
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "author": article.author,
        "body_markdown": article.body_markdown,
        "published_at": instant(article.published_at),
        "updated_at": instant(article.updated_at),
        "status": article.status,
        "championships": list(article.championships),
        "rounds": list(article.rounds),
        "competitors": list(article.competitors),
        "links": [dict(link) for link in article.links],
        "url": f"/api/v1/articles/{article.slug}",
    }
