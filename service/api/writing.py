"""Writes through the API: request guards, If-Match, Idempotency-Key and the OpenAPI
documentation of token-protected operations."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from ..domain.text import check_text
from ..store.engine import write_session
from ..writes import WriteError, Writer, write
from .json_bodies import BodyError, check_json_body
from .models import IdempotencyRecord, delete_idempotency_records_before, idempotency_record
from .problems import problem
from .responses import etag_of, json_response
from .tokens import Principal

PREFIX = "/api/v1"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BODYLESS_POSTS = ("/rotate-secret", "/replay", "/test")


class NotFoundError(Exception):
    """A resource named in the URL of a write does not exist (404, not 422)."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what
        self.message = message


def found_or_404(found: Any, what: str, name: object) -> Any:
    """``found``, or a 404 naming the ``what`` (championship, entry, …) that does not exist."""
    if found is None:
        raise NotFoundError(what, f"no {what} {name!r}")
    return found


def already_exists(what: str, slug: str) -> WriteError:
    """The 422 for a create whose slug is taken: the client should PATCH instead."""
    return WriteError("slug", f"{what} {slug!r} already exists; PATCH it instead")


def require_json_body() -> Response | None:
    """Refuse an API write whose body is too large (413) or not JSON (415)."""
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
        # A classification sheet is the one body that is not JSON.
        sheet = request.method == "POST" and request.path.endswith("/results")
        if sheet and request.mimetype == "text/csv":
            return None
        if not request.is_json and not bodyless:
            return problem(
                415,
                "Unsupported Media Type",
                "send the body as JSON with Content-Type: application/json",
            )
        try:
            check_json_body(request.get_data(cache=True))
        except BodyError as exc:
            title = "Bad Request" if exc.status == 400 else "Unprocessable Content"
            detail = f"{exc.field}: {exc.message}"
            return problem(
                exc.status, title, detail, errors=[{"field": exc.field, "message": exc.message}]
            )
    return None


WRITE_ERRORS = (400, 401, 403, 404, 412, 413, 415, 422, 428, 429)


def answer(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    """A write's answer: JSON, or an empty 204."""
    if status == 204:
        return Response(status=204, headers=headers)
    return json_response(body, status=status, headers=headers)


def authenticated_operation(blp: Blueprint) -> Callable[[Any], Any]:
    """A decorator for ``blp``'s token-protected operations: bearer security and the
    problem+json error answers they can give, in the OpenAPI document."""

    def document(func: Any) -> Any:
        for status in WRITE_ERRORS:
            func = blp.alt_response(status, description="application/problem+json")(func)
        return blp.doc(security=[{"bearer": []}])(func)

    return document


def check_if_match(current: Any) -> None:
    """Enforce optimistic locking: 428 without If-Match, 412 when it is stale."""
    if not request.headers.get("If-Match"):
        raise PreconditionError(
            428,
            "Precondition Required",
            "send If-Match with the ETag you last read, so that no one else's edit is overwritten",
        )
    if request.if_match.star_tag:
        raise PreconditionError(
            428,
            "Precondition Required",
            "If-Match: * is not accepted, as it would skip the check for someone else's edit: "
            "send the concrete ETag you last read",
        )
    if not request.if_match.contains(etag_of(current)):
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


def perform_write(
    principal: Principal,
    action: Callable[[Writer], tuple[int, Any, str | None]],
) -> Response:
    """Run ``action`` in one write transaction and answer with its (status, body, location).

    With an ``Idempotency-Key`` header, the answer is stored in the same transaction; a retry
    with the same key and body gets the stored answer and writes nothing.
    """
    key = request.headers.get("Idempotency-Key")
    now = dt.datetime.now(dt.UTC)
    request_hash = hashlib.sha256(
        request.method.encode() + request.path.encode() + (request.get_data() or b"")
    ).hexdigest()
    if key is not None and not 1 <= len(key) <= 200:
        return problem(400, "Bad Request", "Idempotency-Key must be 1 to 200 characters")
    if key is not None and (bad := check_text(key, max_length=None)):
        return problem(400, "Bad Request", f"Idempotency-Key {bad}")
    if key:
        replay = _replay(principal, key, request_hash, now)
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
                        response_body=json.dumps(without_secrets(body)),
                        location=location,
                        created_at=now,
                    )
                )
    except PreconditionError as exc:
        return problem(exc.status, exc.title, exc.detail)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        if key and (replay := _replay(principal, key, request_hash, now)) is not None:
            return replay
        raise
    headers = {"Location": location} if location else None
    return answer(body, status, headers)


# Response fields that carry a secret shown once: an idempotency record never keeps them.
SECRET_FIELDS = ("secret",)


def without_secrets(body: Any) -> Any:
    """``body`` as an idempotency record may keep it: each secret replaced by a note saying it
    was shown once and how to get a new one."""
    if not isinstance(body, dict) or not any(name in body for name in SECRET_FIELDS):
        return body
    kept = {name: value for name, value in body.items() if name not in SECRET_FIELDS}
    kept["secret_note"] = (
        "The secret was shown once, in the first response to this request, and is not kept "
        f"in clear; POST {body.get('href', '')}/rotate-secret to get a new one."
    )
    return kept


def _expired_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(hours=current_app.config["IDEMPOTENCY_HOURS"])


def _replay(principal: Principal, key: str, request_hash: str, now: dt.datetime) -> Response | None:
    with write_session() as session:
        record = idempotency_record(session, principal.token_id, key)
        if record is not None and record.created_at <= _expired_before(now):
            session.delete(record)  # expired: the key is free for a new request
            record = None
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
    return answer(json.loads(record.response_body), record.status_code, headers)


def purge_idempotency_records(app: Flask, now: dt.datetime) -> int:
    """Delete idempotency records older than ``IDEMPOTENCY_HOURS`` (worker housekeeping)."""
    cutoff = now - dt.timedelta(hours=app.config["IDEMPOTENCY_HOURS"])
    with write_session(app) as session:
        return delete_idempotency_records_before(session, cutoff)
