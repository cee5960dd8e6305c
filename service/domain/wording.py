"""The wording every renderer shares: one home for each phrase and number format.

Results are written two ways on purpose: calendars use the fan's short form ("P7") where a
line must stay short in a calendar app, and news entries and pages use words ("7th").
"""

from __future__ import annotations

import datetime as dt

from .models import Championship, Result, Round, Session
from .site import Site

TIME_TBC = "time TBC"

OUTCOME_LABELS = {
    "DNF": "DNF (did not finish)",
    "DNS": "DNS (did not start)",
    "DSQ": "DSQ (disqualified)",
    "NC": "NC (not classified)",
}


def round_label(round_: Round) -> str:
    """How text names a round: its name, or its circuit's ("Circuit Paul Ricard")."""
    return round_.display_name


def session_label(session: Session) -> str:
    """ "Circuit Paul Ricard, Race 1"."""
    return f"{round_label(session.round)}, {session.name}"


def round_path(round_: Round) -> str:
    """The HTML page of a round."""
    return f"/championships/{round_.championship.slug}/rounds/{round_.number}"


def round_url(settings: Site, round_: Round) -> str:
    """The absolute URL of a round's page."""
    return settings.url(round_path(round_))


def short_title(championship: Championship) -> str:
    """The championship's short name for summaries, falling back to its name."""
    return championship.short_name or championship.name


def status_word(status: str) -> str:
    """The word put in front of a cancelled or postponed event's summary ("" otherwise)."""
    return f"{status.upper()}: " if status in ("cancelled", "postponed") else ""


def tbc_text(session: Session) -> str:
    """ "time TBC", or "time TBC, morning" when the organiser said when roughly."""
    return f"{TIME_TBC}, {session.time_note}" if session.time_note else TIME_TBC


def day_text(value: dt.date) -> str:
    """ "Sun 4 June"."""
    return f"{value:%a} {value.day} {value:%B}"


def ordinal(n: int | None) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    if n is None:
        return ""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def result_line_text(result: Result) -> str:
    """ "7th", "DNF: Retired on lap 1 ..." — one result in words."""
    if result.outcome == "classified":
        text = ordinal(result.position) if result.position else "classified"
    else:
        text = result.outcome + (f" ({ordinal(result.position)})" if result.position else "")
    if result.note:
        text += f": {result.note}"
    return text


def result_text(result: Result) -> str:
    """ "P7", "DNF, retired on lap 1 ...": one result, as a fan says it."""
    head = f"P{result.position}" if result.outcome == "classified" else result.outcome
    if result.position and result.outcome != "classified":
        head += f" (P{result.position})"
    if not result.note:
        return head
    return f"{head}, {result.note[:1].lower()}{result.note[1:]}"


def place_text(result: Result) -> str:
    """ "7." or "DNF:": a result's place at the head of a results line."""
    return f"{result.position}." if result.position else f"{result.outcome}:"
