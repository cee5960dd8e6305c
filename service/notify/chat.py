"""Chat-ready webhook bodies: Discord and Slack incoming webhooks. Pure functions.

A subscription's ``format`` says which body its deliveries carry:
- ``standard``: the Standard Webhooks JSON (``{"type", "timestamp", "data"}``);
- ``discord``: an execute-webhook body, ``content`` plus one embed
  (https://discord.com/developers/docs/resources/webhook#execute-webhook);
- ``slack``: an incoming-webhook body, ``text`` (the notification fallback) plus blocks
  (https://api.slack.com/messaging/webhooks, https://api.slack.com/reference/block-kit/blocks).

Every text is cut to the documented limits below (with an ellipsis), so no value a data file
or an article can hold makes Discord or Slack refuse the message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

WEBHOOK_FORMATS = ("standard", "discord", "slack")

# Discord: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
DISCORD_CONTENT_MAX = 2000
DISCORD_EMBED_TITLE_MAX = 256
DISCORD_EMBED_DESCRIPTION_MAX = 4096
DISCORD_EMBED_FOOTER_MAX = 2048
DISCORD_USERNAME_MAX = 80
DISCORD_EMBED_TOTAL_MAX = 6000
# Slack: https://api.slack.com/reference/block-kit/blocks (header text 150, section text
# 3000, context elements 10); ``text`` is truncated by Slack past 40,000 characters, and
# Slack advises keeping it under 4,000.
SLACK_TEXT_MAX = 4000
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_CONTEXT_MAX = 3000

ELLIPSIS = "…"
GRIDFEED_COLOUR = 0xE10600  # the embed's side bar: a racing red


@dataclass(frozen=True)
class ChatMessage:
    """What a person reads: a title, the sentence, a link, when, and which championship."""

    title: str
    sentence: str
    url: str | None
    at: dt.datetime
    footer: str = "gridfeed"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def discord_body(message: ChatMessage) -> dict[str, Any]:
    """A Discord execute-webhook body: ``content`` and one embed, within Discord's limits."""
    embed: dict[str, Any] = {
        "title": clip(message.title, DISCORD_EMBED_TITLE_MAX),
        "description": clip(message.sentence, DISCORD_EMBED_DESCRIPTION_MAX),
        "timestamp": message.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "color": GRIDFEED_COLOUR,
        "footer": {"text": clip(message.footer, DISCORD_EMBED_FOOTER_MAX)},
    }
    if message.url:
        embed["url"] = message.url
    # The total over title, description and footer must stay within 6,000 characters.
    spare = DISCORD_EMBED_TOTAL_MAX - len(embed["title"]) - len(embed["footer"]["text"])
    embed["description"] = clip(embed["description"], spare)
    return {
        "username": "gridfeed",
        "content": clip(message.sentence, DISCORD_CONTENT_MAX),
        "embeds": [embed],
        # Nothing a data file says may ping @everyone or a role.
        "allowed_mentions": {"parse": []},
    }


def slack_escape(text: str) -> str:
    """Slack mrkdwn control characters escaped (&, <, >), as Slack documents."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(message: ChatMessage) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (the fallback) and header, section and context
    blocks, within Slack's limits."""
    sentence = slack_escape(message.sentence)
    if message.url:
        link = f"<{slack_escape(message.url)}|Details>"
        section = clip(sentence, SLACK_SECTION_MAX - len(link) - 2) + "\n" + link
    else:
        section = clip(sentence, SLACK_SECTION_MAX)
    when = int(message.at.timestamp())
    # Slack shows the date in the reader's own zone; the text after | is the fallback.
    stamp = f"<!date^{when}^{{date_short_pretty}} {{time}}|{message.at:%Y-%m-%d %H:%M} UTC>"
    context = f"{slack_escape(message.footer)} · {stamp}"
    return {
        "text": clip(sentence, SLACK_TEXT_MAX),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": clip(message.title, SLACK_HEADER_MAX)},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip(context, SLACK_CONTEXT_MAX)}],
            },
        ],
        "unfurl_links": False,
    }


def chat_body(fmt: str, message: ChatMessage) -> dict[str, Any]:
    """The body for a chat ``fmt`` (``discord`` or ``slack``)."""
    if fmt == "discord":
        return discord_body(message)
    if fmt == "slack":
        return slack_body(message)
    raise ValueError(f"not a chat format: {fmt!r}")
