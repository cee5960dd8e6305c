"""The aggregator table: one real user agent per pattern, and what it counts as."""

from __future__ import annotations

import pytest

from service.stats.agents import AGGREGATORS, classify

# (user agent as the service sends it, aggregator, subscribers it counts as)
KNOWN = [
    (
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers; "
        "like FeedFetcher-Google)",
        "Feedly",
        123,
    ),
    ("Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 12 subscribers; )", "Inoreader", 12),
    (
        "NewsBlur Feed Fetcher - 7 subscribers - https://www.newsblur.com/site/6175/gridfeed "
        "(Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_4) AppleWebKit/605.1.15)",
        "NewsBlur",
        7,
    ),
    (
        "Mozilla/5.0 (compatible; theoldreader.com; 4 subscribers; feed-id=5a1b2c3d4e5f)",
        "The Old Reader",
        4,
    ),
    ("Feedbin feed-id:1234 - 9 subscribers", "Feedbin", 9),
    ("BazQux/2.4 (+https://bazqux.com/fetcher; 2 subscribers)", "BazQux", 2),
    ("Feed Wrangler/1.0 (5 subscribers; feed-id=42; http://feedwrangler.net)", "Feed Wrangler", 5),
    (
        "Mozilla/5.0 (compatible; Feedspot/1.0 (+https://www.feedspot.com/fs/fetcher; "
        "like FeedFetcher-Google)",
        "Feedspot",
        1,
    ),
    ("Netvibes (crawler/bot; http://www.netvibes.com; 3 subscribers)", "Netvibes", 3),
    ("Google-Calendar-Importer", "Google Calendar", 1),
    ("Microsoft Exchange/15.20 (Windows NT 10.0; Win64; x64)", "Outlook.com", 1),
]


@pytest.mark.parametrize(("agent", "name", "count"), KNOWN, ids=[k[1] for k in KNOWN])
def test_each_aggregator_counts_as_what_it_reports(agent: str, name: str, count: int) -> None:
    fetcher = classify(agent)
    assert (fetcher.aggregator, fetcher.subscribers) == (name, count)


def test_every_pattern_has_a_test() -> None:
    assert {a.name for a in AGGREGATORS} == {name for _, name, _ in KNOWN}


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.0",
        "iOS/17.1 (21B80) dataaccessd/1.0",
        "NetNewsWire (RSS Reader; https://netnewswire.com/)",
        "Miniflux/2.1.0 (+https://miniflux.app; 1 subscriber)",  # self-hosted: one person
        "",
    ],
)
def test_a_persons_app_is_no_aggregator(agent: str) -> None:
    assert classify(agent).aggregator is None
