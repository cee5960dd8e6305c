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
from .facts import CalendarMeta, CalendarOptions, FactsMemo, feed_facts
from .fragments import FragmentCache
from .vtimezones import vtimezone


def render_calendar(
    meta: CalendarMeta,
    rounds: Iterable[Round],
    options: CalendarOptions,
    settings: Site,
    competitor: Competitor | None = None,
    fragments: FragmentCache | None = None,
    memo: FactsMemo | None = None,
) -> bytes:
    """The whole calendar as bytes: envelope, one VTIMEZONE per zone used, then the events.

    Each event is cached under its facts, so after a one-session change only that session
    (and its round's all-day event, which lists every session) is encoded again.
    """
    cache = fragments if fragments is not None else FragmentCache(max_items=0)
    events = feed_facts(rounds, options, settings, competitor, memo)
    years: dict[str, set[int]] = {}
    if not options.utc:
        for round_ in rounds:
            for session in round_.sessions:
                if session.local_date and session.local_time and options.selects(session.kind):
                    years.setdefault(round_.circuit.timezone, set()).add(session.local_date.year)
    encoded = cache.many([(facts, partial(event_ical, facts)) for facts in events])
    timezones = cache.many(
        [
            (("vtimezone", z, min(y), max(y)), partial(_vtimezone_ical, z, min(y), max(y)))
            for z, y in sorted(years.items())
        ]
    )
    head = calendar_envelope(meta, settings).to_ical()
    end = b"END:VCALENDAR\r\n"
    return b"".join([head[: -len(end)], *timezones, *encoded, end])


def last_modified(rounds: Iterable[Round]) -> dt.datetime | None:
    """The latest change time of any round or session in ``rounds``."""
    stamps = [r.updated_at for r in rounds] + [s.updated_at for r in rounds for s in r.sessions]
    return max(stamps, default=None)


def _vtimezone_ical(zone_name: str, first_year: int, last_year: int) -> bytes:
    return vtimezone(zone_name, first_year, last_year).to_ical()
