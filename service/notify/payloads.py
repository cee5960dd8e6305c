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
from ..domain.wording import round_path, session_label
from ..news.entries import (
    describe_reminder,
    describe_results,
    describe_round_change,
    describe_session_change,
    describe_session_time,
)
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
    # For people (chat formats): a title, the sentence the news feed writes, a site path.
    title: str = ""
    sentence: str = ""
    path: str | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body of a delivery."""
        return {"type": self.type, "timestamp": utc_iso(self.at), "data": self.data}

    def to_record(self) -> dict[str, Any]:
        """The event as JSON values, to keep in the fan-out outbox (``event_from_record``)."""
        return {
            "type": self.type,
            "at": self.at.isoformat(),
            "data": self.data,
            "championships": sorted(self.championships),
            "competitors": None if self.competitors is None else sorted(self.competitors),
            "title": self.title,
            "sentence": self.sentence,
            "path": self.path,
        }


def event_from_record(record: dict[str, Any]) -> Event:
    """The event ``Event.to_record`` kept."""
    competitors = record["competitors"]
    return Event(
        record["type"],
        dt.datetime.fromisoformat(record["at"]),
        record["data"],
        frozenset(record["championships"]),
        None if competitors is None else frozenset(competitors),
        title=record["title"],
        sentence=record["sentence"],
        path=record["path"],
    )


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
    words = _session_words(found)
    if change.action == "created":
        sentence = f"{session_label(found)} scheduled: {describe_session_time(found)}"
        return Event(
            "session.scheduled", change.at, {"session": current}, scope, **words, sentence=sentence
        )
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
    sentence = describe_session_change(found, before, after) or (
        f"{session_label(found)} updated: {describe_session_time(found)}"
    )
    kind = "session.cancelled" if cancelled else "session.changed"
    return Event(kind, change.at, data, scope, **words, sentence=sentence)


def _session_words(found: Session) -> dict[str, Any]:
    """The title and link a chat message about a session carries."""
    return {
        "title": found.round.championship.name,
        "path": f"{round_path(found.round)}#{found.slug}",
    }


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
    sentence = describe_round_change(found, change.before or {}, change.after or {}) or (
        f"{found.championship.name} round {found.number} ({found.display_name}) {change.action}"
    )
    return Event(
        "round.changed",
        change.at,
        data,
        frozenset([found.championship.slug]),
        title=found.championship.name,
        sentence=sentence,
        path=round_path(found),
    )


def _results_event(session: OrmSession, change: Change) -> Event | None:
    found = queries.session_by_key(session, change.key)
    if found is None:
        return None
    kind = "results.published" if change.action == "published" else "results.corrected"
    data = {"results": results_dict(found), "action": change.action}
    sentence = describe_results(found)
    if change.action == "corrected":
        sentence = f"Corrected: {sentence}"
    return Event(
        kind,
        change.at,
        data,
        frozenset([found.round.championship.slug]),
        **_session_words(found),
        sentence=sentence,
    )


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
        title=found.title,
        sentence=found.summary or found.title,
        path=f"/news/{found.slug}",
    )


def reminder_event(found: Session, minutes: int, now: dt.datetime) -> Event:
    """``session.starting_soon`` for a timed session, ``minutes`` before its start."""
    data = {"session": session_dict(found), "minutes_before": minutes}
    return Event(
        "session.starting_soon",
        now,
        data,
        frozenset([found.round.championship.slug]),
        **_session_words(found),
        sentence=describe_reminder(found, minutes),
    )


PING = "ping"


def ping_event(subscription_id: str, now: dt.datetime) -> Event:
    """The ``ping`` a subscription's owner sends to check the set-up."""
    sentence = "gridfeed test message: this webhook is set up and receives notifications."
    data = {"webhook": subscription_id, "message": sentence}
    return Event(PING, now, data, frozenset(), title="gridfeed: test", sentence=sentence)
