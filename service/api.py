"""The JSON API's plumbing: the flask-smorest Api (OpenAPI 3.1), problem+json errors, JSON
responses with ETags, conditional requests, paging, and Idempotency-Key handling."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from flask_smorest import Api, Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from .db import get_store
from .errors import _handle_http, problem
from .models import IdempotencyRecord
from .tokens import AuthError, Principal
from .writes import WriteError, Writer, write

EXTENSION = "gridfeed.api"
PREFIX = "/api/v1"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BODYLESS_POSTS = ("/rotate-secret", "/replay")


# -- errors -------------------------------------------------------------------------------


def _flatten(messages: Any, path: str = "") -> list[dict[str, str]]:
    """webargs/marshmallow messages as a list of {field, message}."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            if key in {"json", "query", "querystring", "headers"} and not path:
                out.extend(_flatten(value, ""))
                continue
            name = (
                f"{path}[{key}]"
                if isinstance(key, int)
                else (f"{path}.{key}" if path else str(key))
            )
            out.extend(_flatten(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": path or "(body)", "message": m} for m in messages]
    if isinstance(messages, list):
        return [e for i, m in enumerate(messages) for e in _flatten(m, f"{path}[{i}]")]
    return [{"field": path or "(body)", "message": str(messages)}]


def _handle_api_http(exc: HTTPException) -> Response:
    if not request.path.startswith("/api/"):
        return _handle_http(exc)
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages:
        errors = _flatten(messages)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        # A bad query parameter is a bad request (400); a bad body is unprocessable (422).
        in_query = isinstance(messages, dict) and set(messages) <= {"query", "querystring"}
        status = 400 if in_query else exc.code or 400
        title = "Bad Request" if in_query else exc.name
        response = problem(status, title, detail, errors=errors)
    else:
        response = problem(
            exc.code or 500, exc.name, data.get("message") or exc.description or exc.name
        )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _handle_auth(exc: AuthError) -> Response:
    title = "Unauthorized" if exc.status == 401 else "Forbidden"
    response = problem(exc.status, title, exc.reason)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridfeed"'
    return response


class NotFoundError(WriteError):
    """A resource named in the URL of a write does not exist (404, not 422)."""


def _handle_not_found(exc: NotFoundError) -> Response:
    return problem(404, "Not Found", exc.message)


def _handle_write_error(exc: WriteError) -> Response:
    return problem(
        422,
        "Unprocessable Content",
        f"{exc.field}: {exc.message}",
        errors=[{"field": exc.field, "message": exc.message}],
    )


def _require_json_body() -> Response | None:
    if request.method in WRITE_METHODS and request.path.startswith(PREFIX):
        if (
            request.content_length
            and request.content_length > current_app.config["MAX_CONTENT_LENGTH"]
        ):
            return problem(
                413,
                "Content Too Large",
                f"the body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes",
            )
        # Some writes carry no body (DELETE, rotating a secret, a replay): nothing to type.
        bodyless = not request.content_length and (
            request.method == "DELETE" or request.path.endswith(BODYLESS_POSTS)
        )
        if not request.is_json and not bodyless:
            return problem(
                415,
                "Unsupported Media Type",
                "send the body as JSON with Content-Type: application/json",
            )
    return None


# -- app wiring ---------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Create the app's Api (OpenAPI 3.1 at /api/v1/openapi.json) and register the API."""
    from . import api_read, api_webhooks, api_write

    app.config.setdefault("API_TITLE", "gridfeed API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Championship calendars, results and news. Reads are public; "
                "writes need a bearer token (flask tokens create)."
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = Api(app)
    app.extensions[EXTENSION] = api
    api.register_blueprint(api_read.blp)
    api.register_blueprint(api_write.blp)
    api.register_blueprint(api_webhooks.blp)
    # flask-smorest installs its own JSON error handler; ours answers problem+json.
    app.register_error_handler(HTTPException, _handle_api_http)
    app.register_error_handler(AuthError, _handle_auth)
    app.register_error_handler(WriteError, _handle_write_error)
    app.register_error_handler(NotFoundError, _handle_not_found)
    app.before_request(_require_json_body)
    app.add_url_rule(f"{PREFIX}/docs", "api_docs", _docs_page)


def _docs_page() -> str:
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


# -- documenting authenticated operations -------------------------------------------------

WRITE_ERRORS = (400, 401, 403, 404, 412, 413, 415, 422, 428)


def authenticated_operation(blp: Blueprint) -> Callable[[Any], Any]:
    """A decorator for ``blp``'s token-protected operations: bearer security and the
    problem+json error answers they can give, in the OpenAPI document."""

    def document(func: Any) -> Any:
        for status in WRITE_ERRORS:
            func = blp.alt_response(status, description="application/problem+json")(func)
        return blp.doc(security=[{"bearer": []}])(func)

    return document


# -- responses ----------------------------------------------------------------------------


def etag_of(data: Any) -> str:
    """The ETag of a representation: a hash of its canonical JSON."""
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None, etag: bool = True
) -> Response:
    """A JSON response with CORS, an ETag of the data, and 304s on GET."""
    body = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    response = Response(body, status=status, content_type="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Link, Location"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if etag:
        response.set_etag(etag_of(data))
    response.cache_control.no_cache = True
    if request.method in {"GET", "HEAD"} and status == 200:
        return response.make_conditional(request)
    return response


def check_if_match(current: Any) -> None:
    """Enforce optimistic locking: 428 without If-Match, 412 when it is stale."""
    if not request.headers.get("If-Match"):
        raise PreconditionError(
            428,
            "Precondition Required",
            "send If-Match with the ETag you last read, so that no one else's edit is overwritten",
        )
    if not request.if_match.contains(etag_of(current)) and not request.if_match.star_tag:
        raise PreconditionError(
            412,
            "Precondition Failed",
            "the resource changed since you read it; fetch it again, "
            "reapply your edit and retry with the new ETag",
        )


class PreconditionError(Exception):
    """A failed If-Match precondition (raised inside a write; nothing is written)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def paginate(
    items: Sequence[dict[str, Any]],
    key: Callable[[dict[str, Any]], list[Any]],
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """A stable keyset page: items after ``cursor`` in ``key`` order, and the next link."""
    ordered = sorted(items, key=key)
    if cursor:
        after = decode_cursor(cursor)
        ordered = [item for item in ordered if key(item) > after]
    page = ordered[:limit]
    next_url = None
    if len(ordered) > limit:
        args = request.args.to_dict()
        args.update(cursor=encode_cursor(key(page[-1])), limit=str(limit))
        query = "&".join(f"{k}={v}" for k, v in sorted(args.items()))
        next_url = f"{request.path}?{query}"
    return {"items": page, "next": next_url}


def encode_cursor(position: list[Any]) -> str:
    """An opaque cursor for a sort position."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The sort position in a cursor; a 400 naming ``cursor`` if it is not one of ours."""
    from flask_smorest import abort

    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        abort(400, message="cursor: not a cursor from a previous page's next link")
    if not isinstance(position, list):
        abort(400, message="cursor: not a cursor from a previous page's next link")
    return position


def page_response(page: dict[str, Any]) -> Response:
    """A page as JSON, with ``Link: rel="next"`` when there is one."""
    headers = {"Link": f'<{page["next"]}>; rel="next"'} if page["next"] else None
    return json_response(page, headers=headers)


# -- writes with idempotency --------------------------------------------------------------


def perform_write(
    principal: Principal,
    action: Callable[[Writer], tuple[int, Any, str | None]],
) -> Response:
    """Run ``action`` in one write transaction and answer with its (status, body, location).

    With an ``Idempotency-Key`` header, the answer is stored in the same transaction; a retry
    with the same key and body gets the stored answer and writes nothing.
    """
    key = request.headers.get("Idempotency-Key")
    request_hash = hashlib.sha256(
        request.method.encode() + request.path.encode() + (request.get_data() or b"")
    ).hexdigest()
    if key is not None and not 1 <= len(key) <= 200:
        return problem(400, "Bad Request", "Idempotency-Key must be 1 to 200 characters")
    if key:
        replay = _replay(principal, key, request_hash)
        if replay is not None:
            return replay
    try:
        with write(actor=principal.actor) as writer:
            status, body, location = action(writer)
            if key:
                writer.session.add(
                    IdempotencyRecord(
                        token_id=principal.token_id,
                        key=key,
                        request_hash=request_hash,
                        status_code=status,
                        response_body=json.dumps(body),
                        location=location,
                        created_at=dt.datetime.now(dt.UTC),
                    )
                )
    except PreconditionError as exc:
        return problem(exc.status, exc.title, exc.detail)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        if key and (replay := _replay(principal, key, request_hash)) is not None:
            return replay
        raise
    headers = {"Location": location} if location else None
    return json_response(body, status=status, headers=headers)


def _replay(principal: Principal, key: str, request_hash: str) -> Response | None:
    with get_store().sessions() as session:
        record = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.token_id == principal.token_id, IdempotencyRecord.key == key
            )
        )
    if record is None:
        return None
    if record.request_hash != request_hash:
        return problem(
            422,
            "Unprocessable Content",
            "this Idempotency-Key was already used for a different request; use a "
            "new key for a new request",
            errors=[{"field": "Idempotency-Key", "message": "reused"}],
        )
    headers = {"Idempotent-Replayed": "true"}
    if record.location:
        headers["Location"] = record.location
    return json_response(
        json.loads(record.response_body), status=record.status_code, headers=headers
    )
