"""The subscribe panel: the options a fan ticks, the calendar URL they give, the links to
each calendar app, and a QR code. ``static/subscribe.js`` applies the same rules live in the
browser; without JavaScript the panel's form submits here and the page shows the same URL.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import segno
from flask import abort
from werkzeug.datastructures import MultiDict

from ..calendars.facts import KIND_LABELS, WEEKEND
from ..domain.timing import SessionTime

GOOGLE_SUBSCRIBE = "https://calendar.google.com/calendar/r?cid={url}"
GOOGLE_EVENT = "https://calendar.google.com/calendar/render"
OUTLOOK_COM = "https://outlook.live.com/calendar/0/addfromweb?url={url}&name={name}"
OUTLOOK_WORK = "https://outlook.office.com/calendar/0/addfromweb?url={url}&name={name}"
# What the panel offers: the kinds a fan thinks in, and reminders in minutes.
PANEL_KINDS = ("practice", "qualifying", "race", WEEKEND)
PANEL_ALARMS = ((15, "15 min"), (30, "30 min"), (60, "1 hour"), (1440, "1 day"))
ZONES = (("circuit", "Circuit time"), ("utc", "UTC"))


@dataclass(frozen=True)
class SubscribeLinks:
    """The ways to subscribe to one calendar URL, from calendar apps and the web."""

    https: str
    webcal: str
    google: str
    outlook: str
    outlook_work: str


def subscribe_links(url: str, name: str) -> SubscribeLinks:
    """``webcal://``, Google's, Outlook.com's and Outlook for work's links, and the URL.

    Google takes the https URL in ``cid`` and caches per URL, so a filtered feed (its options
    in the query) is a separate subscription there, as it should be. Outlook shows ``name``
    as the calendar's name.
    """
    parts = urlsplit(url)
    encoded = quote(url, safe="")
    named = {"url": encoded, "name": quote(name, safe="")}
    return SubscribeLinks(
        https=url,
        webcal=urlunsplit(("webcal", *parts[1:])),
        google=GOOGLE_SUBSCRIBE.format(url=encoded),
        outlook=OUTLOOK_COM.format(**named),
        outlook_work=OUTLOOK_WORK.format(**named),
    )


@dataclass(frozen=True)
class PanelChoice:
    """What the fan ticked: kinds (empty: everything), reminders and circuit time or UTC."""

    kinds: tuple[str, ...] = ()
    alarms: tuple[int, ...] = ()
    utc: bool = False

    def query(self) -> str:
        """The calendar options in the server's canonical order (see ``canonical_url``)."""
        pairs = [("include", kind) for kind in sorted(self.kinds)]
        pairs.extend(("alarm", str(minutes)) for minutes in self.alarms)
        if self.utc:
            pairs.append(("tz", "utc"))
        return urlencode(pairs)

    def calendar_url(self, feed_url: str) -> str:
        """``feed_url`` with these options, e.g. ``…/calendar.ics?include=race&alarm=30``."""
        query = self.query()
        return f"{feed_url}?{query}" if query else feed_url


def parse_choice(args: MultiDict[str, str]) -> PanelChoice:
    """The panel's submitted form (``include``, ``alarm``, ``zone``); 400 naming a bad one."""
    kinds = tuple(dict.fromkeys(args.getlist("include")))
    unknown = [k for k in kinds if k not in PANEL_KINDS]
    if unknown:
        abort(
            400, description=f"include: unknown kind {unknown[0]!r}; use {', '.join(PANEL_KINDS)}"
        )
    if set(kinds) == set(PANEL_KINDS):
        kinds = ()  # every kind ticked means everything, kinds added later too (as the JS does)
    offered = {minutes for minutes, _ in PANEL_ALARMS}
    alarms: set[int] = set()
    for raw in args.getlist("alarm"):
        if not raw.isdigit() or int(raw) not in offered | {0}:
            abort(400, description=f"alarm: one of {', '.join(map(str, sorted(offered)))}")
        if int(raw):
            alarms.add(int(raw))
    zone = args.get("zone", "circuit")
    if zone not in dict(ZONES):
        abort(400, description="zone: 'circuit' or 'utc'")
    return PanelChoice(kinds=kinds, alarms=tuple(sorted(alarms)), utc=zone == "utc")


@dataclass(frozen=True)
class Panel:
    """Everything the panel template shows for one calendar."""

    name: str
    feed_url: str
    choice: PanelChoice
    links: SubscribeLinks
    kind_labels: tuple[tuple[str, str], ...] = tuple((k, KIND_LABELS[k]) for k in PANEL_KINDS)
    alarm_labels: tuple[tuple[int, str], ...] = PANEL_ALARMS
    zone_labels: tuple[tuple[str, str], ...] = ZONES


def panel(name: str, feed_url: str, choice: PanelChoice) -> Panel:
    """The panel for the calendar ``feed_url`` (absolute, no query) named ``name``."""
    return Panel(name, feed_url, choice, subscribe_links(choice.calendar_url(feed_url), name))


def qr_svg(data: str) -> bytes:
    """A QR code for ``data`` as a standalone SVG, dark modules on a light background."""
    out = io.BytesIO()
    segno.make(data, error="m").save(
        out, kind="svg", scale=4, border=2, dark="#111", light="#fff", title="QR code", nl=False
    )
    return out.getvalue()


def _google_stamp(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def google_event_link(text: str, st: SessionTime, details: str, location: str) -> str | None:
    """Google Calendar's "add event" link for one session; None when its day is not known.

    A timed session gives UTC instants and the circuit's zone (``ctz``); a session with a day
    but no clock time an all-day event, as in the feeds.
    """
    if st.date is None:
        return None
    if st.timed:
        assert st.start_utc is not None
        end = st.end_utc or st.start_utc + dt.timedelta(hours=1)
        dates = f"{_google_stamp(st.start_utc)}/{_google_stamp(end)}"
    else:
        dates = f"{_google_stamp(st.date)}/{_google_stamp(st.date + dt.timedelta(days=1))}"
    query = {
        "action": "TEMPLATE",
        "text": text,
        "dates": dates,
        "ctz": st.zone,
        "details": details,
        "location": location,
    }
    return f"{GOOGLE_EVENT}?{urlencode(query, quote_via=quote)}"
