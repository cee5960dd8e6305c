"""Who is fetching: the table of aggregators that fetch once for many people.

Feed aggregators fetch a feed once for all their users and most say how many in their user
agent ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers; )"). Calendar
services (Google Calendar, Outlook.com / Exchange) fetch once for everyone who subscribed
there and say nothing. Each counts as the number it reports, or as one "aggregator" fetcher;
anything else is a person's own reader or calendar app, counted by a salted hash.

One row per service; ``tests/test_stats_agents.py`` has a real user agent for each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "123 subscribers", "1 subscriber", "12 readers" (NewsBlur and others).
_REPORTED = re.compile(r"(\d{1,9})\s+(?:subscribers?|readers?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Aggregator:
    """A service that fetches for many people: its name and the lower-case markers that
    recognise its user agent (plain substrings: cheap on every feed request)."""

    name: str
    markers: tuple[str, ...]


AGGREGATORS: tuple[Aggregator, ...] = (
    Aggregator("Feedly", ("feedly",)),
    Aggregator("Inoreader", ("inoreader",)),
    Aggregator("NewsBlur", ("newsblur",)),
    Aggregator("The Old Reader", ("theoldreader.com",)),
    Aggregator("Feedbin", ("feedbin",)),
    Aggregator("BazQux", ("bazqux",)),
    Aggregator("Feed Wrangler", ("feed wrangler", "feedwrangler")),
    Aggregator("Feedspot", ("feedspot",)),
    Aggregator("Netvibes", ("netvibes",)),
    Aggregator("Google Calendar", ("google-calendar-importer",)),
    Aggregator("Outlook.com", ("microsoft exchange", "exchange/")),
)


@dataclass(frozen=True)
class Fetcher:
    """What a user agent is: an aggregator (with what it reports), or a person's app."""

    aggregator: str | None
    subscribers: int


def classify(user_agent: str) -> Fetcher:
    """Recognise an aggregator in ``user_agent``; anything else is one person's app."""
    lowered = user_agent.lower()
    for aggregator in AGGREGATORS:
        if any(marker in lowered for marker in aggregator.markers):
            reported = _REPORTED.search(user_agent)
            count = int(reported.group(1)) if reported else 1
            return Fetcher(aggregator.name, max(count, 1))
    return Fetcher(None, 1)
