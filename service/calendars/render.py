"""A whole calendar: championships, rounds and sessions in, ``text/calendar`` bytes out.

Pure functions of domain objects (no HTTP, no database). Each event's bytes come from the
fragment cache when its facts are there, so after a one-session change only that session (and
its round's all-day event) is rendered again, and every other fragment is reused byte for byte.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial

from ..domain.models import Competitor, Round
from ..domain.site import Site
from .encoding import calendar_envelope, event_ical
from .facts import CalendarMeta, CalendarOptions, EventFacts, event_uid, feed_facts
from .fragments import FragmentCache
from .vtimezones import vtimezone_ical


def render_calendar(
    meta: CalendarMeta,
    rounds: Iterable[Round],
    options: CalendarOptions,
    settings: Site,
    competitor: Competitor | None = None,
    fragments: FragmentCache | None = None,
    *,
    only_session: str | None = None,
) -> bytes:
    """The whole calendar as bytes: envelope, one VTIMEZONE per zone used, then the events.

    ``only_session`` (a session slug) keeps just that session's event (an "add this session"
    file), with the same UID as in every feed, so a calendar app treats it as the same event.

    Each event is cached under its facts, so after a one-session change only that session
    (and its round's all-day event, which lists every session) is encoded again.
    """
    cache = fragments if fragments is not None else FragmentCache(max_items=0)
    rounds = list(rounds)
    events = feed_facts(rounds, options, settings, competitor)
    if only_session is not None:
        wanted = {event_uid(settings, r.championship.slug, r.number, only_session) for r in rounds}
        events = [facts for facts in events if facts.uid in wanted]
    encoded = cache.many([(facts, partial(event_ical, facts)) for facts in events])
    timezones = cache.many(
        [
            (("vtimezone", zone, span), partial(vtimezone_ical, zone, *span))
            for zone, span in sorted(zone_spans(events).items())
        ]
    )
    head = calendar_envelope(meta, settings).to_ical()
    end = b"END:VCALENDAR\r\n"
    return b"".join([head[: -len(end)], *timezones, *encoded, end])


def zone_spans(events: Iterable[EventFacts]) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """For each zone named by a TZID, the first and last UTC instant written in it: what its
    VTIMEZONE must be true for (the fragment cache key is ``("vtimezone", zone, span)``)."""
    spans: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    for facts in events:
        if facts.tzid is None or facts.tzid == "UTC":
            continue
        assert isinstance(facts.start, dt.datetime)
        low = facts.start.astimezone(dt.UTC)
        high = facts.end.astimezone(dt.UTC) if isinstance(facts.end, dt.datetime) else low
        if facts.tzid in spans:
            low, high = min(low, spans[facts.tzid][0]), max(high, spans[facts.tzid][1])
        spans[facts.tzid] = (low, high)
    return spans


def last_modified(rounds: Iterable[Round]) -> dt.datetime | None:
    """The latest change time of any round or session in ``rounds``."""
    stamps = [r.updated_at for r in rounds] + [s.updated_at for r in rounds for s in r.sessions]
    return max(stamps, default=None)
