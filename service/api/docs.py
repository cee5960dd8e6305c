"""The API documentation page for people, rendered on the server from the OpenAPI document:
every operation's parameters, request body and an example response, Markdown rendered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup

from ..news.markup import markdown_to_html

EXTENSION = "gridfeed.api"
METHODS = ("get", "post", "put", "patch", "delete")
# Example values by format, and for the identifiers people type most.
FORMAT_EXAMPLES = {
    "date": "2023-06-03",
    "date-time": "2023-06-03T12:00:00Z",
    "time": "14:00",
    "uri": "https://example.org/",
    "url": "https://example.org/",
    "email": "press@example.org",
}
NAME_EXAMPLES: dict[str, Any] = {
    "slug": "gt4-european-series-2023",
    "championship": "gt4-european-series-2023",
    "competitor": "jessica-backman",
    "name": "GT4 European Series 2023",
    "series": "GT4 European Series",
    "short_name": "GT4 Europe",
    "season": 2023,
    "number": 2,
    "position": 7,
    "circuit": "paul-ricard",
    "timezone": "Europe/Paris",
    "country_code": "FR",
    "title": "Tough weekend for the Bäckman siblings in France",
    "website": "https://www.gt4-europe.com/",
    "url": "https://gridfeed.example/championships/gt4-european-series-2023",
    "local_time": "14:00",
    "duration_minutes": 60,
}
MAX_DEPTH = 6


@dataclass(frozen=True)
class Field:
    """One parameter or body field as the page lists it."""

    name: str
    where: str
    required: bool
    type: str
    description: Markup


@dataclass(frozen=True)
class Operation:
    """One operation of the API, ready for the template."""

    method: str
    path: str
    anchor: str
    summary: Markup
    description: Markup
    secured: bool
    parameters: list[Field]
    body: list[Field]
    body_example: str | None
    status: str
    response_example: str | None


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/...``)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def type_text(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """A short type such as "string (date)", "integer 1–200", "one of: race, practice"."""
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = " or ".join(str(k) for k in kind)
    if kind == "array":
        return f"array of {type_text(spec, schema.get('items', {}))}"
    text = str(kind)
    if "format" in schema:
        text += f" ({schema['format']})"
    if "minimum" in schema or "maximum" in schema:
        text += f" {schema.get('minimum', '')}–{schema.get('maximum', '')}"
    if "maxLength" in schema:
        text += f", at most {schema['maxLength']} characters"
    return text


def example_of(spec: dict[str, Any], schema: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """An example value built from a schema: its own example, enum, format or type."""
    schema = _resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if name in NAME_EXAMPLES and schema.get("type") != "array" and "properties" not in schema:
        return NAME_EXAMPLES[name]
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    for key in ("allOf", "anyOf", "oneOf"):
        if schema.get(key):
            return example_of(spec, schema[key][0], name, depth)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        if depth >= MAX_DEPTH:
            return {}
        return {
            key: example_of(spec, value, key, depth + 1)
            for key, value in schema.get("properties", {}).items()
        }
    if kind == "array":
        return (
            []
            if depth >= MAX_DEPTH
            else [example_of(spec, schema.get("items", {}), name, depth + 1)]
        )
    if kind == "integer":
        return (
            schema.get("default")
            if isinstance(schema.get("default"), int)
            else schema.get("minimum", 1)
        )
    if kind == "number":
        return schema.get("minimum", 1.5)
    if kind == "boolean":
        return schema.get("default", True)
    if kind == "null":
        return None
    if "format" in schema and schema["format"] in FORMAT_EXAMPLES:
        return FORMAT_EXAMPLES[schema["format"]]
    return name or "string"


def _markdown(text: str | None) -> Markup:
    return Markup(markdown_to_html(text)) if text else Markup("")


def _fields(spec: dict[str, Any], schema: dict[str, Any]) -> list[Field]:
    schema = _resolve(spec, schema)
    required = set(schema.get("required", ()))
    return [
        Field(
            name,
            "body",
            name in required,
            type_text(spec, prop),
            _markdown(_resolve(spec, prop).get("description")),
        )
        for name, prop in schema.get("properties", {}).items()
        if not _resolve(spec, prop).get("readOnly")
    ]


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def operations_of(spec: dict[str, Any]) -> list[Operation]:
    """Every operation of the document, in path order."""
    found = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [
                _resolve(spec, p) for p in (*item.get("parameters", ()), *op.get("parameters", ()))
            ]
            parameters = [
                Field(
                    p["name"],
                    p["in"],
                    bool(p.get("required")),
                    type_text(spec, p.get("schema", {})),
                    _markdown(p.get("description")),
                )
                for p in params
            ]
            body_schema = (
                op.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            status, response_schema = _success(spec, op)
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    anchor=_anchor(method, path),
                    summary=_markdown(op.get("summary")),
                    description=_markdown(op.get("description")),
                    secured=bool(op.get("security")),
                    parameters=parameters,
                    body=_fields(spec, body_schema) if body_schema else [],
                    body_example=_json(example_of(spec, body_schema)) if body_schema else None,
                    status=status,
                    response_example=(
                        _json(example_of(spec, response_schema)) if response_schema else None
                    ),
                )
            )
    return found


def _anchor(method: str, path: str) -> str:
    """ "get-api-v1-championships-slug": an id for the operation's section."""
    cleaned = path.strip("/").replace("/", "-").replace("{", "").replace("}", "")
    return f"{method}-{cleaned}"


def _success(spec: dict[str, Any], op: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """The first 2xx status and its JSON schema (None for an empty answer such as 204)."""
    for status, response in sorted(op.get("responses", {}).items()):
        if status.startswith("2"):
            response = _resolve(spec, response)
            content = response.get("content", {})
            media = content.get("application/json") or next(iter(content.values()), {})
            return status, media.get("schema")
    return "", None


def docs_page() -> str:
    """A human page for the OpenAPI document, rendered on the server (no JavaScript)."""
    spec = current_app.extensions[EXTENSION].spec.to_dict()
    return render_template(
        "api_docs.html",
        spec=spec,
        description=_markdown(spec.get("info", {}).get("description")),
        operations=operations_of(spec),
        page_description="The gridfeed JSON API: every operation, its parameters and examples.",
    )
