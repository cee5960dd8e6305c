"""The WebSub hub (W3C Recommendation) for every feed we serve, at ``/websub``.

A subscriber POSTs ``hub.mode``, ``hub.topic`` (one of our feed URLs) and ``hub.callback``.
The request is checked here and answered 202; the verification of intent (a GET challenge to
the callback) is queued in the outbox and made by the worker, which never lets the web
process wait on a subscriber. Only a verified subscription receives content: the worker
sends each active subscriber the topic's new bytes after a write changes them, signed with
``X-Hub-Signature: sha256=...`` when the subscriber gave a ``hub.secret``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from ..domain.choices import NUMBER_MAX_DIGITS
from ..domain.text import check_text, parse_number
from ..store.engine import write_session
from ..web.params import number_problem
from ..web.ratelimits import enforce
from ..web.site import base_url
from ..writes import utc_now
from .delivery import render_topic
from .enqueue import enqueue_verification
from .outbound_http import UnsafeTarget, check_configured
from .signing import seal

bp = Blueprint("websub", __name__)
# The endpoints whose URLs are topics: every news feed and every calendar.
TOPIC_BLUEPRINTS = ("news_feeds", "calendars")
MAX_SECRET_BYTES = 200  # WebSub: hub.secret MUST be less than 200 bytes
MAX_URL_LENGTH = 1000


class HubRequestError(ValueError):
    """A subscription request we refuse, naming the parameter at fault."""


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def check_topic(topic: str) -> str:
    """``topic`` if it is one of our feeds, served here and answering 200."""
    if not topic:
        raise HubRequestError("hub.topic: missing")
    if len(topic) > MAX_URL_LENGTH:
        raise HubRequestError(f"hub.topic: longer than {MAX_URL_LENGTH} characters")
    if problem := check_text(topic, max_length=None):
        raise HubRequestError(f"hub.topic: {problem}")
    try:
        parts = urlsplit(topic)
    except ValueError as exc:  # "Invalid IPv6 URL" and friends
        raise HubRequestError(f"hub.topic: not a URL ({exc})") from None
    ours = urlsplit(base_url())
    if parts.scheme not in {"http", "https"} or parts.netloc.lower() != ours.netloc.lower():
        raise HubRequestError(f"hub.topic: this hub serves only feeds under {base_url()}/")
    adapter = current_app.url_map.bind(ours.netloc, url_scheme=parts.scheme)
    try:
        endpoint, _ = adapter.match(parts.path, method="GET")
    except (NotFound, MethodNotAllowed):
        raise HubRequestError("hub.topic: no feed at this URL") from None
    if endpoint.split(".", 1)[0] not in TOPIC_BLUEPRINTS:
        raise HubRequestError("hub.topic: not a feed (use an RSS, Atom, JSON Feed or iCal URL)")
    # Through the worker's renderer: the bytes subscribers will get, and the same 404s.
    status, _, _ = render_topic(current_app._get_current_object(), topic)  # type: ignore[attr-defined]
    if status != 200:
        raise HubRequestError(f"hub.topic: the feed answers {status}")
    return topic


def check_callback(callback: str) -> str:
    """``callback`` if it is an http(s) URL we may send to (no SSRF)."""
    if not callback:
        raise HubRequestError("hub.callback: missing")
    if len(callback) > MAX_URL_LENGTH:
        raise HubRequestError(f"hub.callback: longer than {MAX_URL_LENGTH} characters")
    if problem := check_text(callback, max_length=None):
        raise HubRequestError(f"hub.callback: {problem}")
    try:
        check_configured(callback, current_app.config)
    except UnsafeTarget as exc:
        raise HubRequestError(f"hub.callback: {exc}") from None
    return callback


def lease_seconds(raw: str | None) -> int:
    """The lease to grant: the requested one within our limits, or the default."""
    minimum, default, maximum = current_app.config["WEBSUB_LEASE_SECONDS"]
    if raw is None or raw == "":
        return default
    requested = parse_number(raw, 0, 10**NUMBER_MAX_DIGITS - 1)
    if requested is None:
        raise HubRequestError(number_problem("hub.lease_seconds", raw, 0, maximum))
    return max(minimum, min(maximum, requested))


def _host_of(url: str) -> str | None:
    """The host a URL names, or None when it names none (the URL is refused below)."""
    try:
        return urlsplit(url).hostname
    except ValueError:  # "http://[::1/": an unclosed IPv6 literal
        return None


@bp.post("/websub")
def hub() -> Response:
    """Accept a subscribe or unsubscribe request; verification of intent follows."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return _text(415, "send hub.* parameters as application/x-www-form-urlencoded")
    form = request.form
    mode = form.get("hub.mode", "")
    # Each request makes the hub send a verification GET: limit who asks, and for whom.
    enforce("RATE_LIMIT_WEBSUB_CLIENT", "websub-client", request.remote_addr or "unknown")
    callback_host = _host_of(form.get("hub.callback", ""))
    if callback_host:
        enforce("RATE_LIMIT_WEBSUB_CALLBACK_HOST", "websub-callback-host", callback_host)
    try:
        if mode not in {"subscribe", "unsubscribe"}:
            raise HubRequestError("hub.mode: must be subscribe or unsubscribe")
        topic = check_topic(form.get("hub.topic", ""))
        callback = check_callback(form.get("hub.callback", ""))
        lease = lease_seconds(form.get("hub.lease_seconds"))
        secret = form.get("hub.secret") or None
        if secret is not None and len(secret.encode()) >= MAX_SECRET_BYTES:
            raise HubRequestError(f"hub.secret: must be shorter than {MAX_SECRET_BYTES} bytes")
    except HubRequestError as exc:
        return _text(400, str(exc))
    note = ""
    secure = request.is_secure or current_app.config["WEBSUB_ACCEPT_SECRET_OVER_HTTP"]
    if secret is not None and not secure:
        # WebSub: a hub MUST ignore hub.secret on a request that was not made over HTTPS.
        secret, note = None, " hub.secret was ignored: it is only accepted over HTTPS."
    verification = {
        "mode": mode,
        "topic": topic,
        "callback": callback,
        "lease_seconds": lease,
        "secret_sealed": seal(current_app.config, secret) if secret else None,
    }
    with write_session() as session:
        if not enqueue_verification(session, verification, utc_now()):
            note += " An identical request is being verified already."
    return _text(
        202,
        f"Accepted: the hub will now verify this {mode} request with a GET to the callback." + note,
    )


@bp.get("/websub")
def about() -> Response:
    """What this endpoint is, for a person who opens it in a browser."""
    return _text(
        200,
        "gridfeed WebSub hub (https://www.w3.org/TR/websub/). Every feed names it in "
        '<link rel="hub">. POST hub.mode, hub.topic, hub.callback and optionally '
        "hub.lease_seconds and hub.secret as a form to subscribe.",
    )
