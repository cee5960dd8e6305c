"""What a change means to a webhook subscriber: event types and payloads, from the change
record and the store as the write left it. Pure apart from reading within that transaction.

Payloads follow Standard Webhooks: ``{"type", "timestamp", "data"}``. Every time is given the
API's three ways (local wall time, IANA zone, UTC instant); unknown times are nulls with
``time_tbc``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from ..domain import queries
from ..domain.change_values import decode_value
from ..domain.models import Article, Change, Session
from ..domain.timing import localize, utc_iso
from ..representations import article_dict, circuit_dict, results_dict, session_dict


@dataclass(frozen=True)
class Event:
    """One event to announce: its type, the data, and which subscriptions it concerns."""

    type: str
    at: dt.datetime
    data: dict[str, Any]
    championships: frozenset[str]
    # For articles: the competitors it is about. None: any competitor of the championships.
    competitors: frozenset[str] | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body of a delivery."""
        return {"type": self.type, "timestamp": utc_iso(self.at), "data": self.data}


def event_for_change(session: OrmSession, change: Change) -> Event | None:
    """The event a change announces, or None for changes no subscriber hears about."""
    if change.entity == "session":
        return _session_event(session, change)
    if change.entity == "round":
        return _round_event(session, change)
    if change.entity == "results" and change.action in {"published", "corrected", "withdrawn"}:
        return _results_event(session, change)
    if change.entity == "article" and change.action == "published":
        return _article_event(session, change)
    return None


def times(
    local_date: str | None,
    local_time: str | None,
    duration: int | None,
    zone: str,
    fold: int | None = 0,
) -> dict[str, Any]:
    """A session time three ways from stored wall-time values (ISO strings, as recorded)."""
    out: dict[str, Any] = {
        "local_date": local_date,
        "local_time": local_time,
        "local_start": None,
        "timezone": zone,
        "start_utc": None,
        "end_utc": None,
        "duration_minutes": duration,
        "time_tbc": True,
    }
    if local_date and local_time:
        naive = dt.datetime.combine(
            decode_value(local_date, dt.date), decode_value(local_time, dt.time)
        )
        start = localize(naive, zone, fold or 0)
        out.update(local_start=start.isoformat(), start_utc=utc_iso(start), time_tbc=False)
        if duration:
            out["end_utc"] = utc_iso(start.astimezone(dt.UTC) + dt.timedelta(minutes=duration))
    return out


def changed_fields(change: Change) -> list[str]:
    """The fields whose values differ (the record also carries unchanged context fields)."""
    before, after = change.before or {}, change.after or {}
    return sorted(k for k in after if before.get(k) != after.get(k)) if change.before else []


def _session_event(session: OrmSession, change: Change) -> Event | None:
    found = queries.session_by_key(session, change.key)
    if found is None:
        return None
    current = session_dict(found)
    scope = frozenset([found.round.championship.slug])
    if change.action == "created":
        return Event("session.scheduled", change.at, {"session": current}, scope)
    before, after = change.before or {}, change.after or {}
    zone = found.round.circuit.timezone
    merged_before = {**after, **before}
    previous = times(
        merged_before.get("local_date"),
        merged_before.get("local_time"),
        merged_before.get("duration_minutes"),
        zone,
        merged_before.get("fold"),
    )
    previous["status"] = merged_before.get("status", found.status)
    data = {
        "session": current,
        "changed_fields": changed_fields(change),
        "previous": previous,
    }
    cancelled = after.get("status") == "cancelled" and before.get("status") != "cancelled"
    return Event("session.cancelled" if cancelled else "session.changed", change.at, data, scope)


def _round_event(session: OrmSession, change: Change) -> Event | None:
    found = queries.round_by_key(session, change.key)
    if found is None:
        return None
    data = {
        "round": {
            "championship": found.championship.slug,
            "number": found.number,
            "name": found.display_name,
            "circuit": circuit_dict(found.circuit),
            "start_date": found.start_date.isoformat(),
            "end_date": found.end_date.isoformat(),
            "status": found.status,
            "revision": found.revision,
            "url": f"/api/v1/championships/{found.championship.slug}/rounds/{found.number}",
        },
        "action": change.action,
        "changed_fields": changed_fields(change),
        "previous": change.before,
    }
    return Event("round.changed", change.at, data, frozenset([found.championship.slug]))


def _results_event(session: OrmSession, change: Change) -> Event | None:
    found = queries.session_by_key(session, change.key)
    if found is None:
        return None
    kind = "results.published" if change.action == "published" else "results.corrected"
    data = {"results": results_dict(found), "action": change.action}
    return Event(kind, change.at, data, frozenset([found.round.championship.slug]))


def _article_event(session: OrmSession, change: Change) -> Event | None:
    found = session.scalar(select(Article).where(Article.slug == change.key.split("/", 1)[1]))
    if found is None:
        return None
    data = {"article": {k: v for k, v in article_dict(found).items() if k != "body_markdown"}}
    return Event(
        "article.published",
        change.at,
        data,
        frozenset(found.championships),
        frozenset(found.competitors),
    )


def reminder_event(found: Session, minutes: int, now: dt.datetime) -> Event:
    """``session.starting_soon`` for a timed session, ``minutes`` before its start."""
    data = {"session": session_dict(found), "minutes_before": minutes}
    return Event("session.starting_soon", now, data, frozenset([found.round.championship.slug]))
