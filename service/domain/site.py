"""Where the feeds live: one ``Site`` for every renderer (calendars, news, pages)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    """The tag: domain, the absolute base URL (no trailing slash) and the refresh interval."""

    domain: str
    base_url: str
    refresh_minutes: int = 60

    def url(self, path: str) -> str:
        """An absolute URL for a path on this site."""
        return f"{self.base_url}{path}"

    def tag(self, day: dt.date | dt.datetime, specific: str) -> str:
        """A ``tag:`` URI (RFC 4151) minted on ``day``."""
        return f"tag:{self.domain},{day:%Y-%m-%d}:{specific}"
