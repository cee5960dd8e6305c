"""Bounds on JSON request bodies, checked before the API's parser sees them: nesting depth,
number size and lone surrogates. Python's json module recurses once per level (a body nested
20,000 deep is a RecursionError), parses a 5,000-digit integer past its limit into a
ValueError, and decodes ``"\\ud800"`` into a string no database driver can encode. The body is
parsed once here with bounded number hooks; the checks after that walk the parsed value."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..domain.choices import MAX_JSON_DEPTH, MAX_JSON_NUMBER_CHARS

# A \uD800-\uDFFF escape: the only way a lone surrogate gets into a UTF-8 body.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class BodyError(ValueError):
    """A body refused: ``status`` 400 (not acceptable JSON) or 422 (a field's value)."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


def nesting_depth(value: Any) -> int:
    """How deep the arrays and objects of a parsed JSON value nest (without recursing)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item if isinstance(child, dict | list))
    return deepest


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
        return (path or "(body)") if _SURROGATE_RE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE_RE.search(key):
                return path or "(body)"
            found = _surrogate_path(item, f"{path}.{key}" if path else str(key))
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
    try:
        value = json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_constant)
    except RecursionError:
        # The C scanner stops itself at Python's recursion limit; the body is far too deep.
        raise BodyError(400, "(body)", f"JSON nested deeper than {MAX_JSON_DEPTH}") from None
    except json.JSONDecodeError:
        return  # the API's parser answers malformed JSON itself
    depth = nesting_depth(value)
    if depth > MAX_JSON_DEPTH:
        raise BodyError(400, "(body)", f"JSON nested {depth} deep; at most {MAX_JSON_DEPTH}")
    # Checked only when the text has a surrogate escape: walking the body is the slow part.
    where = _SURROGATE_ESCAPE_RE.search(text) and _surrogate_path(value)
    if where:
        raise BodyError(422, where, "contains a lone surrogate (not valid Unicode text)")
