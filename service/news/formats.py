"""The news-feed renderers: RSS 2.0 and Atom 1.0 through feedgen, JSON Feed 1.1 by hand.

Pure functions from ``FeedMeta`` and ``NewsItem`` values to bytes. Nothing here reads the
clock: every date comes from the data, so unchanged data gives byte-identical feeds.

feedgen 1.0.0 gets four things wrong; each is worked around here, once:

- ``FeedEntry.link`` drops ``rel`` and ``type`` in Atom (feedgen issue 135): the entry links
  are rewritten after rendering (``_fix_atom_entry_links``).
- The RSS channel ``<link>`` is whichever feed link was added last: the alternate (HTML) link
  is always added last (``_generator``).
- ``add_entry()`` prepends by default: entries are added with ``order="append"``.
- RSS never gets the WebSub hub link: it is added after rendering (``_add_rss_hub``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree

from ..domain.text import xml_safe
from ..domain.timing import utc_iso
from .entries import NewsItem

ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
_MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True)
class FeedMeta:
    """Feed-level facts. ``self_url`` is the exact URL fetched, query string included."""

    id: str
    title: str
    description: str
    self_url: str
    home_url: str
    hub_url: str | None
    updated: dt.datetime
    author: str
    format: str  # "rss", "atom" or "json"


def render(meta: FeedMeta, items: Sequence[NewsItem]) -> bytes:
    """Render the feed in ``meta.format``, without any character XML 1.0 cannot carry."""
    meta = _xml_safe(meta)
    items = [_xml_safe(item) for item in items]
    if meta.format == "json":
        return render_json_feed(meta, items)
    if meta.format == "atom":
        return render_atom(meta, items)
    return render_rss(meta, items)


def _xml_safe(value: Any) -> Any:
    """A copy of a dataclass value with every text field passed through ``xml_safe``: the
    store's text rule keeps these out, but one bad row must never take a feed down."""
    changes = {}
    for spec in fields(value):
        current = getattr(value, spec.name)
        if isinstance(current, str):
            changes[spec.name] = xml_safe(current)
        elif isinstance(current, tuple) and all(isinstance(v, str) for v in current):
            changes[spec.name] = tuple(xml_safe(v) for v in current)
    return replace(value, **changes)


def _generator(meta: FeedMeta, items: Sequence[NewsItem]) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(meta.id)
    fg.title(meta.title)
    fg.subtitle(meta.description)  # also the RSS channel description
    fg.author({"name": meta.author})
    fg.language("en")
    fg.generator("gridfeed", uri="https://github.com/gridfeed/gridfeed")
    fg.link(href=meta.self_url, rel="self", type=_MEDIA_TYPES[meta.format])
    if meta.hub_url:
        fg.link(href=meta.hub_url, rel="hub")
    # Last, because feedgen makes the last link the RSS channel <link>.
    fg.link(href=meta.home_url, rel="alternate", type="text/html")
    fg.updated(meta.updated)  # Atom updated and RSS lastBuildDate: from the data
    for item in items:
        entry = fg.add_entry(order="append")
        entry.id(item.id)
        entry.guid(item.id, permalink=False)
        entry.title(item.title)
        entry.link(href=item.url, rel="alternate", type="text/html")
        entry.published(item.published)
        entry.updated(item.updated)
        entry.author({"name": item.author})
        entry.dc.dc_creator(item.author)
        entry.description(item.summary or item.title)
        entry.content(item.content_html, type="html")
        for category in item.categories:
            entry.category(term=category)
    return fg


def render_atom(meta: FeedMeta, items: Sequence[NewsItem]) -> bytes:
    """Atom 1.0 bytes."""
    raw = _generator(meta, items).atom_str(pretty=True, encoding="UTF-8")
    return _fix_atom_entry_links(raw, items)


def render_rss(meta: FeedMeta, items: Sequence[NewsItem]) -> bytes:
    """RSS 2.0 bytes, with the atom:link self (and hub) links."""
    raw = _generator(meta, items).rss_str(pretty=True, encoding="UTF-8")
    return _add_rss_hub(raw, meta.hub_url) if meta.hub_url else raw


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _fix_atom_entry_links(raw: bytes, items: Sequence[NewsItem]) -> bytes:
    """Put back the rel and type feedgen drops from entry links (feedgen issue 135)."""
    root = etree.fromstring(raw)
    by_id = {item.id: item for item in items}
    for entry in root.iter(f"{{{ATOM_NS}}}entry"):
        item = by_id[entry.findtext(f"{{{ATOM_NS}}}id")]
        for link in entry.findall(f"{{{ATOM_NS}}}link"):
            if link.get("href") == item.url:
                link.set("rel", "alternate")
                link.set("type", "text/html")
    return _serialise(root)


def _add_rss_hub(raw: bytes, hub_url: str) -> bytes:
    """Add ``<atom:link rel="hub">`` to the RSS channel (feedgen never writes it)."""
    root = etree.fromstring(raw)
    channel = root.find("channel")
    hub = etree.Element(f"{{{ATOM_NS}}}link", href=hub_url, rel="hub")
    self_link = channel.find(f"{{{ATOM_NS}}}link[@rel='self']")
    if self_link is not None:
        self_link.addnext(hub)
    else:
        channel.append(hub)
    return _serialise(root)


def render_json_feed(meta: FeedMeta, items: Sequence[NewsItem]) -> bytes:
    """JSON Feed 1.1 bytes (https://jsonfeed.org/version/1.1), with the standard library."""
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": meta.title,
        "home_page_url": meta.home_url,
        "feed_url": meta.self_url,
        "description": meta.description,
        "authors": [{"name": meta.author}],
        "language": "en",
    }
    if meta.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": meta.hub_url}]
    feed["items"] = [
        {
            "id": item.id,
            "url": item.url,
            "title": item.title,
            "content_html": item.content_html,
            **({"summary": item.summary} if item.summary else {}),
            "date_published": utc_iso(item.published),
            "date_modified": utc_iso(item.updated),
            "authors": [{"name": item.author}],
            "tags": list(item.categories),
        }
        for item in items
    ]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
