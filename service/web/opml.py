"""OPML 2.0 lists of our feeds (http://opml.org/spec2.opml): a pure function to bytes.

Feed readers import the news feeds (``type="rss"`` with ``xmlUrl``, whatever the feed's
format, as the spec says); calendars are ``type="link"`` outlines with ``url``, which readers
skip and calendar tools and people can follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from .feed_links import FeedLink

FORMAT_VERSIONS = {
    "application/rss+xml": "RSS2",
    "application/atom+xml": "Atom",
    "application/feed+json": "JSONFeed",
}


@dataclass(frozen=True)
class Group:
    """A titled group of feeds (a championship, a competitor), with nested groups."""

    title: str
    html_url: str
    feeds: list[FeedLink]
    groups: list[Group] = field(default_factory=list)


def render_opml(title: str, base_url: str, groups: list[Group], created: dt.datetime) -> bytes:
    """An OPML 2.0 document listing ``groups`` with absolute URLs on ``base_url``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    for group in groups:
        _group(body, group, base_url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _group(parent: ET.Element, group: Group, base_url: str) -> None:
    node = ET.SubElement(parent, "outline", text=group.title, title=group.title)
    for link in group.feeds:
        text = f"{group.title}: {link.label}"
        url = base_url + link.path
        if link.media_type in FORMAT_VERSIONS:
            ET.SubElement(
                node,
                "outline",
                type="rss",
                text=text,
                title=text,
                version=FORMAT_VERSIONS[link.media_type],
                xmlUrl=url,
                htmlUrl=group.html_url,
            )
        else:
            ET.SubElement(node, "outline", type="link", text=text, url=url)
    for sub in group.groups:
        _group(node, sub, base_url)
