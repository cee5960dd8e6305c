"""Enumerations, patterns and limits live once (``service.domain.choices``): the data-file
JSON schema and the API's OpenAPI document use exactly the same values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from service.domain import choices

SCHEMA = Path(__file__).resolve().parent.parent / "service/ingest/schemas/data.schema.json"
PATTERNS = {
    choices.SLUG_PATTERN,
    choices.ROUND_REF_PATTERN,
    choices.TIME_PATTERN,
    choices.COUNTRY_PATTERN,
    choices.UTC_OFFSET_PATTERN,
}
ENUMS = {
    tuple(values)
    for values in (
        choices.ROUND_STATUSES,
        choices.SESSION_KINDS,
        choices.SESSION_STATUSES,
        choices.RESULT_OUTCOMES,
        choices.ARTICLE_STATUSES,
    )
}


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON document."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_data_schema_patterns_are_the_python_ones() -> None:
    schema = json.loads(SCHEMA.read_text())
    patterns = {n["pattern"] for n in walk(schema) if isinstance(n.get("pattern"), str)}
    identifier_patterns = patterns - {"^https?://"}
    assert identifier_patterns == PATTERNS


def test_data_schema_enumerations_are_the_python_ones() -> None:
    schema = json.loads(SCHEMA.read_text())
    enums = {tuple(n["enum"]) for n in walk(schema) if "enum" in n}
    # Results are published or withdrawn in files ("none" is the state before publishing).
    assert enums - {("published", "withdrawn")} <= ENUMS
    assert tuple(choices.SESSION_KINDS) in enums and tuple(choices.ROUND_STATUSES) in enums


def test_data_schema_duration_limit_is_the_python_one() -> None:
    schema = json.loads(SCHEMA.read_text())
    durations = [n["duration"] for n in walk(schema) if isinstance(n.get("duration"), dict)]
    assert durations and all(d["maximum"] == choices.MAX_DURATION_MINUTES for d in durations)


def test_openapi_patterns_are_the_python_ones(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    patterns = {n["pattern"] for n in walk(spec) if isinstance(n.get("pattern"), str)}
    assert choices.SLUG_PATTERN in patterns
    assert patterns <= PATTERNS
