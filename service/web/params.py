"""Query and form parameters, read one way on every URL: small helpers the views call.

The rule for unknown parameters (README, "Query parameters"): every URL ignores parameters it
does not read, so cache-busters (``?_=1700000000``) and campaign tags work; the names a URL
reads are reserved and a bad value of one is a 400 naming it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort
from werkzeug.routing import BaseConverter, UnicodeConverter

from ..domain.choices import NUMBER_MAX_DIGITS
from ..domain.text import parse_number


def number_problem(name: str, raw: str, low: int, high: int) -> str:
    """The sentence for a bad number parameter, naming it."""
    shown = raw if len(raw) <= 20 else raw[:20] + "…"
    return f"{name}: must be a whole number from {low} to {high} (ASCII digits), not {shown!r}"


def number_arg(raw: str | None, name: str, default: int | None, low: int, high: int) -> int:
    """The parameter ``name`` (raw value ``raw``) as an int in ``low..high``, ``default`` when
    absent; abort 400 naming the parameter otherwise."""
    if raw is None and default is not None:
        return default
    number = parse_number(raw or "", low, high)
    if number is None:
        abort(400, description=number_problem(name, raw or "", low, high))
    return number


class AsciiIntConverter(BaseConverter):
    """``<int:...>`` in routes: ASCII digits only and at most NUMBER_MAX_DIGITS, so no path
    can carry a number the database cannot store (anything else is simply not found)."""

    regex = f"[0-9]{{1,{NUMBER_MAX_DIGITS}}}"
    weight = 50

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]


class TextPartConverter(UnicodeConverter):
    """``<slug>`` and ``<string:...>`` in routes: any segment without control characters, so
    a path holding one (PostgreSQL refuses NUL in text) names nothing and is a 404."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]")


def install_converters(app: Flask) -> None:
    """Bounded numbers and control-free text in every route (call before adding routes)."""
    app.url_map.converters["int"] = AsciiIntConverter
    app.url_map.converters["default"] = TextPartConverter
    app.url_map.converters["string"] = TextPartConverter
