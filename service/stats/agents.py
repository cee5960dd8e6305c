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
    """A service that fetches for many people: its name and how to recognise it."""

    name: str
    pattern: re.Pattern[str]


AGGREGATORS: tuple[Aggregator, ...] = (
    Aggregator("Feedly", re.compile(r"\bFeedly", re.IGNORECASE)),
    Aggregator("Inoreader", re.compile(r"\bInoreader", re.IGNORECASE)),
    Aggregator("NewsBlur", re.compile(r"\bNewsBlur", re.IGNORECASE)),
    Aggregator("The Old Reader", re.compile(r"theoldreader\.com", re.IGNORECASE)),
    Aggregator("Feedbin", re.compile(r"\bFeedbin", re.IGNORECASE)),
    Aggregator("BazQux", re.compile(r"\bBazQux", re.IGNORECASE)),
    Aggregator("Feed Wrangler", re.compile(r"Feed ?Wrangler", re.IGNORECASE)),
    Aggregator("Feedspot", re.compile(r"\bFeedspot", re.IGNORECASE)),
    Aggregator("Netvibes", re.compile(r"\bNetvibes", re.IGNORECASE)),
    Aggregator("Google Calendar", re.compile(r"Google-Calendar-Importer", re.IGNORECASE)),
    Aggregator("Outlook.com", re.compile(r"Microsoft Exchange|\bExchange/\d", re.IGNORECASE)),
)


@dataclass(frozen=True)
class Fetcher:
    """What a user agent is: an aggregator (with what it reports), or a person's app."""

    aggregator: str | None
    subscribers: int


def classify(user_agent: str) -> Fetcher:
    """Recognise an aggregator in ``user_agent``; anything else is one person's app."""
    for aggregator in AGGREGATORS:
        if aggregator.pattern.search(user_agent):
            reported = _REPORTED.search(user_agent)
            count = int(reported.group(1)) if reported else 1
            return Fetcher(aggregator.name, max(count, 1))
    return Fetcher(None, 1)
