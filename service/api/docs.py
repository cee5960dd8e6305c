"""The API documentation page for people, rendered on the server from the OpenAPI document."""

from __future__ import annotations

from flask import current_app, render_template

EXTENSION = "gridfeed.api"


def docs_page() -> str:
    """A human page for the OpenAPI document, rendered on the server (no JavaScript)."""
    spec = current_app.extensions[EXTENSION].spec.to_dict()
    operations = [
        (
            path,
            method.upper(),
            op.get("summary") or "",
            op.get("description") or "",
            bool(op.get("security")),
        )
        for path, item in sorted(spec.get("paths", {}).items())
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    return render_template("api_docs.html", spec=spec, operations=operations)
