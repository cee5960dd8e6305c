"""Counting a feed fetch from the request: which feed (its path; a calendar's options fold
into it), which championship, and who (address and user agent, hashed by the counter)."""

from __future__ import annotations

from flask import current_app, request

from ..stats.daily import counter_of, utc_today


def count_fetch() -> None:
    """One in-memory increment for the current feed request (when counting is on)."""
    if not current_app.config["STATS_ENABLED"]:
        return
    args = request.view_args or {}
    championship = args.get("slug") if request.path.startswith("/championships/") else None
    counter_of(current_app).record(
        utc_today(),
        request.path,
        championship,
        request.remote_addr or "",
        request.headers.get("User-Agent", ""),
    )
