"""JSON responses with ETags and 304s, and stable keyset paging with opaque cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any, NoReturn
from urllib.parse import urlencode

from flask import Response, current_app, request
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
        try:
            ordered = [item for item in ordered if key(item) > after]
        except TypeError:
            # Only a cursor we signed gets here; one from an older version of a list whose
            # sort key changed shape is stale, not a server error.
            _bad_cursor()
    page = ordered[:limit]
    next_url = None
    if len(ordered) > limit:
        args = request.args.to_dict()
        args.update(cursor=encode_cursor(key(page[-1])), limit=str(limit))
        next_url = f"{request.path}?{urlencode(sorted(args.items()))}"
    return {"items": page, "next": next_url}


def _signature(path: str, payload: str) -> str:
    """The cursor's MAC: the app's key over the list's path and the position."""
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, f"cursor\0{path}\0{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def encode_cursor(position: list[Any]) -> str:
    """An opaque, tamper-evident cursor for a sort position in the current list."""
    raw = json.dumps(position, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{payload}.{_signature(request.path, payload)}"


def _bad_cursor() -> NoReturn:
    abort(400, message="cursor: not a cursor from a previous page's next link of this list")


def decode_cursor(cursor: str) -> list[Any]:
    """The sort position in a cursor; a 400 naming ``cursor`` unless this list signed it."""
    payload, _, mac = cursor.partition(".")
    if not hmac.compare_digest(mac.encode(), _signature(request.path, payload).encode()):
        _bad_cursor()
    try:
        position = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        _bad_cursor()
    if not isinstance(position, list):
        _bad_cursor()
    return position


def page_response(page: dict[str, Any]) -> Response:
    """A page as JSON, with ``Link: rel="next"`` when there is one."""
    headers = {"Link": f'<{page["next"]}>; rel="next"'} if page["next"] else None
    return json_response(page, headers=headers)
