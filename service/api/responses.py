"""JSON responses with ETags and 304s, and stable keyset paging with opaque cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from flask import Response, request
from flask_smorest import abort


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
