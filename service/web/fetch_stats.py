"""Counting a feed fetch from the request: which feed (its path; a calendar's options fold
into it), which championship, and who (address and user agent, hashed by the counter)."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy.exc import DBAPIError

from ..stats.daily import counter_of, utc_today


def count_fetch() -> None:
    """One in-memory increment for the current feed request (when counting is on)."""
    if not current_app.config["STATS_ENABLED"]:
        return
    args = request.view_args or {}
    championship = args.get("slug") if request.path.startswith("/championships/") else None
    try:
        counter_of(current_app).record(
            utc_today(),
            request.path,
            championship,
            request.remote_addr or "",
            request.headers.get("User-Agent", ""),
        )
    except DBAPIError as exc:
        # The first fetch of a day stores the day's salt. Counting is best effort: a store
        # that cannot write (full, read-only, away) must not cost the subscriber the feed.
        current_app.logger.warning("fetch not counted: %s", exc.orig)
