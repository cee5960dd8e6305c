"""A small bar chart of subscribers per day, as SVG drawn on the server (no JavaScript)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from .queries import FeedDay

WIDTH, HEIGHT, MARGIN = 640, 240, 36


def daily_totals(
    rows: Sequence[FeedDay], start: dt.date, end: dt.date
) -> list[tuple[dt.date, int]]:
    """Every day from ``start`` to ``end`` with the total over the selected feeds (0 if none)."""
    totals: dict[dt.date, int] = {}
    for row in rows:
        totals[row.day] = totals.get(row.day, 0) + row.total
    days = (end - start).days + 1
    return [
        (start + dt.timedelta(days=n), totals.get(start + dt.timedelta(days=n), 0))
        for n in range(days)
    ]


def render_chart(title: str, series: Sequence[tuple[dt.date, int]]) -> bytes:
    """An accessible SVG bar chart: a title, one bar per day with its number as a tooltip."""
    peak = max((value for _, value in series), default=0) or 1
    slot = (WIDTH - 2 * MARGIN) / max(len(series), 1)
    plot = HEIGHT - 2 * MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="title">',
        f'<title id="title">{escape(title)}</title>',
        f'<text x="{MARGIN}" y="20" font-family="sans-serif" font-size="13">{escape(title)}</text>',
        f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" font-family="sans-serif" font-size="11" '
        f'text-anchor="end">{peak}</text>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#888"/>',
    ]
    for n, (day, value) in enumerate(series):
        height = plot * value / peak
        x = MARGIN + n * slot + slot * 0.1
        y = HEIGHT - MARGIN - height
        label = quoteattr(f"{day.isoformat()}: {value}")
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{height:.1f}" '
            f'fill="#b00020" data-day="{day.isoformat()}" data-value="{value}">'
            f"<title>{escape(label[1:-1])}</title></rect>"
        )
    if series:
        for day, anchor, x in (
            (series[0][0], "start", MARGIN),
            (series[-1][0], "end", WIDTH - MARGIN),
        ):
            parts.append(
                f'<text x="{x}" y="{HEIGHT - MARGIN + 16}" font-family="sans-serif" '
                f'font-size="11" text-anchor="{anchor}">{day.isoformat()}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts).encode()
