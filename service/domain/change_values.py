"""How field values are written into the change record (JSON), and read back: one pair."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from .timing import utc_iso

Parsed = TypeVar("Parsed", dt.date, dt.time, dt.datetime)


def encode_value(value: Any) -> Any:
    """A JSON-safe form of a field value, for the change record."""
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def decode_value(raw: str | None, kind: type[Parsed]) -> Parsed | None:
    """A date, time or instant read back from the change record (None stays None)."""
    if raw is None:
        return None
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))  # type: ignore[return-value]
    return kind.fromisoformat(raw)
