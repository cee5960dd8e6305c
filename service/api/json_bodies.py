"""Bounds on JSON request bodies, checked before any parser sees them: nesting depth, number
size and lone surrogates. Python's json module recurses once per level (a body nested 20,000
deep is a RecursionError), parses a 5,000-digit integer past its limit into a ValueError, and
decodes ``"\\ud800"`` into a string no database driver can encode."""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from ..domain.choices import MAX_JSON_DEPTH, MAX_JSON_NUMBER_CHARS

# JSON strings (escapes included), removed before counting brackets.
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")
_DEPTH = {"[": 1, "{": 1, "]": -1, "}": -1}


class BodyError(ValueError):
    """A body refused: ``status`` 400 (not acceptable JSON) or 422 (a field's value)."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (without recursing)."""
    brackets = _NOT_BRACKET_RE.sub("", _STRING_RE.sub("", text))
    return max(accumulate(_DEPTH[c] for c in brackets), default=0)


def _number(text: str) -> int | float:
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise BodyError(400, "(body)", f"a number longer than {MAX_JSON_NUMBER_CHARS} characters")
    if any(c in text for c in ".eE"):
        value = float(text)
        if not math.isfinite(value):
            raise BodyError(400, "(body)", f"the number {text} is too large")
        return value
    return int(text)


def _constant(name: str) -> float:
    raise BodyError(400, "(body)", f"{name} is not JSON")


def _surrogate_path(value: Any, path: str = "") -> str | None:
    """The field path of the first string (or key) holding a lone surrogate."""
    if isinstance(value, str):
        return path or "(body)" if re.search("[\ud800-\udfff]", value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if re.search("[\ud800-\udfff]", key):
                return path or "(body)"
            found = _surrogate_path(item, here)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _surrogate_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def check_json_body(raw: bytes) -> None:
    """Raise BodyError if ``raw`` nests too deep, holds an oversized number or a lone
    surrogate; return quietly for anything else (the schema reports ordinary mistakes)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "(body)", "the body is not UTF-8") from None
    depth = nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise BodyError(400, "(body)", f"JSON nested {depth} deep; at most {MAX_JSON_DEPTH}")
    try:
        value = json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_constant)
    except json.JSONDecodeError:
        return  # the API's parser answers malformed JSON itself
    where = _surrogate_path(value)
    if where:
        raise BodyError(422, where, "contains a lone surrogate (not valid Unicode text)")
