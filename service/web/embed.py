"""Embedding the schedule on other sites: iframe pages, the ``embed.js`` web component and
oEmbed.

- ``/embed/championships/<slug>``, ``/embed/competitors/<slug>`` and
  ``/embed/championships/<slug>/rounds/<n>``: the next sessions (in the viewer's zone, by the
  site's ``local-time.js``), a countdown, the latest results and a Subscribe button. Options:
  ``kinds`` (comma list), ``limit`` (1–20), ``theme`` (light, dark, auto), ``compact``
  (1/0). These pages, and only these, may be framed by any site (``security.embeddable``:
  ``frame-ancestors *`` in the one CSP); they set no cookie and load nothing from elsewhere.
- ``/embed.js``: ``<gridfeed-schedule championship=… kinds=… limit=…>``, rendering in its
  shadow DOM from the public JSON API (CORS), themable with CSS custom properties.
- ``/oembed?url=…&format=json``: a ``rich`` oEmbed answer (https://oembed.com) whose HTML is
  the iframe, for CMSs that embed a pasted URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ..domain import queries
from ..domain.choices import SESSION_KINDS
from ..domain.models import Round, Session
from ..domain.timing import SessionTime, describe_local, session_time
from ..domain.wording import result_line_text
from ..store.engine import read_session
from .feed_links import calendar_link, news_links, round_calendar_link
from .pages import time_tag, until
from .security import embeddable
from .site import base_url
from .subscribe import subscribe_links

bp = Blueprint("embed", __name__)
THEMES = ("auto", "light", "dark")
DEFAULT_LIMIT = 5
MAX_LIMIT = 20
LATEST_RESULTS = 3
IFRAME_SIZE = (480, 420)  # width, height in CSS pixels; a compact one is shorter
STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class EmbedOptions:
    """What the embedding site asked for."""

    kinds: frozenset[str] | None
    limit: int
    theme: str
    compact: bool

    def query(self) -> str:
        """The options as a query string (only what differs from the defaults)."""
        params: list[tuple[str, str]] = []
        if self.kinds:
            params.append(("kinds", ",".join(sorted(self.kinds))))
        if self.limit != DEFAULT_LIMIT:
            params.append(("limit", str(self.limit)))
        if self.theme != "auto":
            params.append(("theme", self.theme))
        if self.compact:
            params.append(("compact", "1"))
        return urlencode(params)


def parse_embed_options(args: MultiDict[str, str]) -> EmbedOptions:
    """``kinds``, ``limit``, ``theme`` and ``compact``; abort 400 naming a bad one."""
    kinds = None
    if args.get("kinds"):
        kinds = frozenset(k.strip().lower() for k in args["kinds"].split(",") if k.strip())
        unknown = sorted(kinds - set(SESSION_KINDS))
        if unknown or not kinds:
            abort(
                400,
                description=f"kinds: unknown kind {', '.join(unknown) or '(empty)'}; "
                f"use {', '.join(SESSION_KINDS)}",
            )
    raw_limit = args.get("limit", str(DEFAULT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        abort(400, description=f"limit: a whole number from 1 to {MAX_LIMIT}, not {raw_limit!r}")
    theme = args.get("theme", "auto")
    if theme not in THEMES:
        abort(400, description=f"theme: one of {', '.join(THEMES)}, not {theme!r}")
    compact = args.get("compact", "0")
    if compact not in {"0", "1", "true", "false"}:
        abort(400, description=f"compact: 1 or 0, not {compact!r}")
    return EmbedOptions(kinds, int(raw_limit), theme, compact in {"1", "true"})


def upcoming_sessions(
    rounds: Iterable[Round], kinds: frozenset[str] | None, now: dt.datetime, limit: int
) -> list[tuple[Session, SessionTime]]:
    """The next sessions not yet started (untimed ones until their day is over), in order."""
    ahead = []
    for round_ in rounds:
        if round_.status in ("cancelled", "postponed"):
            continue
        for session in round_.sessions:
            if session.status != "scheduled" or (kinds and session.kind not in kinds):
                continue
            st = session_time(session)
            day = session.local_date or round_.end_date
            if (st.start_utc and st.start_utc <= now) or (not st.timed and day < now.date()):
                continue
            order = st.start_utc or dt.datetime.combine(day, dt.time(23, 59), dt.UTC)
            ahead.append((order, round_.number, session.position, session, st))
    ahead.sort(key=lambda item: item[:3])
    return [(s, st) for *_, s, st in ahead[:limit]]


def latest_results(rounds: Iterable[Round], kinds: frozenset[str] | None) -> Session | None:
    """The most recent session with published results."""
    done = [
        s
        for r in rounds
        for s in r.sessions
        if s.results_status == "published" and (not kinds or s.kind in kinds)
    ]
    return max(done, key=lambda s: (s.local_date or s.round.end_date, s.position), default=None)


@dataclass(frozen=True)
class Embedded:
    """What one embed shows: a title, the site page, the calendar, and the rounds."""

    title: str
    page_path: str
    calendar_path: str
    news_path: str
    rounds: list[Round]


def _frameable(response: Response) -> Response:
    """An embed page: cacheable, no cookie. Framing is allowed by ``security.embeddable``
    on the views (the one CSP, with ``frame-ancestors *`` for them only)."""
    response.headers.pop("X-Frame-Options", None)
    response.headers.pop("Set-Cookie", None)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def _render_embed(found: Embedded | None, what: str) -> Response:
    if found is None:
        abort(404, description=f"no {what}")
    options = parse_embed_options(request.args)
    now = dt.datetime.now(dt.UTC)
    sessions = upcoming_sessions(found.rounds, options.kinds, now, options.limit)
    results = latest_results(found.rounds, options.kinds)
    site = base_url()
    html = render_template(
        "embed.html",
        embed=found,
        options=options,
        sessions=sessions,
        results=results,
        results_lines=_podium(results),
        describe_local=describe_local,
        time_tag=lambda instant: time_tag(instant, None),
        until=until,
        next_start=sessions[0][1].start_utc if sessions and sessions[0][1].timed else None,
        page_url=site + found.page_path,
        subscribe_url=site + found.page_path + "#subscribe-heading",
        webcal=subscribe_links(site + found.calendar_path, found.title).webcal,
    )
    return _frameable(Response(html, content_type="text/html; charset=utf-8"))


def _podium(session: Session | None) -> list[tuple[str, str]]:
    if session is None:
        return []
    lines = sorted(session.results, key=lambda r: (r.position is None, r.position or 0))
    lines = lines[:LATEST_RESULTS]
    return [(", ".join(c.name for c in r.credited), result_line_text(r)) for r in lines]


def championship_embed(slug: str) -> Embedded | None:
    """A championship's embed, or None."""
    found = queries.championship_by_slug(read_session(), slug)
    if found is None:
        return None
    return Embedded(
        found.name,
        f"/championships/{slug}",
        calendar_link("championships", slug).path,
        news_links("championships", slug)[0].path,
        list(found.rounds),
    )


def competitor_embed(slug: str) -> Embedded | None:
    """A competitor's embed (every championship they are entered in), or None."""
    session = read_session()
    found = queries.competitor_by_slug(session, slug)
    if found is None:
        return None
    rounds = [r for c in queries.championships_of(session, found) for r in c.rounds]
    return Embedded(
        found.name,
        f"/competitors/{slug}",
        calendar_link("competitors", slug).path,
        news_links("competitors", slug)[0].path,
        rounds,
    )


def round_embed(slug: str, number: int) -> Embedded | None:
    """One round's embed, or None."""
    found = queries.round_by_number(read_session(), slug, number)
    if found is None:
        return None
    return Embedded(
        f"{found.championship.name}, round {number}: {found.display_name}",
        f"/championships/{slug}/rounds/{number}",
        round_calendar_link(slug, number).path,
        news_links("championships", slug)[0].path,
        [found],
    )


@bp.get("/embed/championships/<slug>")
@embeddable
def championship(slug: str) -> Response:
    """A championship's next sessions and latest results, to put in an iframe."""
    return _render_embed(championship_embed(slug), f"championship {slug!r}")


@bp.get("/embed/competitors/<slug>")
@embeddable
def competitor(slug: str) -> Response:
    """A competitor's next sessions and latest results, to put in an iframe."""
    return _render_embed(competitor_embed(slug), f"competitor {slug!r}")


@bp.get("/embed/championships/<slug>/rounds/<int:number>")
@embeddable
def round_(slug: str, number: int) -> Response:
    """One round's sessions and results, to put in an iframe."""
    return _render_embed(round_embed(slug, number), f"round {number} of {slug!r}")


@bp.get("/embed.js")
def component() -> Response:
    """The ``<gridfeed-schedule>`` web component (a module script: served with CORS)."""
    response = current_app.send_static_file("embed.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.no_cache = None
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)


# -- snippets and oEmbed -------------------------------------------------------------------

Finder = Callable[..., Embedded | None]
# Site page paths that can be embedded: (path parts pattern) -> embed endpoint and finder.
EMBEDDABLE: tuple[tuple[tuple[str, ...], str, Finder], ...] = (
    (("championships", "*"), "embed.championship", championship_embed),
    (("competitors", "*"), "embed.competitor", competitor_embed),
    (("championships", "*", "rounds", "#"), "embed.round_", round_embed),
)


def embed_for_path(path: str) -> tuple[str, Embedded] | None:
    """The embed page path and content for a site page path, or None."""
    parts = tuple(p for p in path.strip("/").split("/") if p)
    for pattern, endpoint, finder in EMBEDDABLE:
        if len(parts) != len(pattern):
            continue
        args = []
        for part, want in zip(parts, pattern, strict=True):
            if want == "*":
                args.append(part)
            elif want == "#":
                if not part.isdigit():
                    break
                args.append(int(part))
            elif part != want:
                break
        else:
            found = finder(*args)
            if found is None:
                return None
            keys = ("slug", "number")[: len(args)]
            return url_for(endpoint, **dict(zip(keys, args, strict=True))), found
    return None


def iframe_snippet(src: str, title: str, width: int, height: int) -> str:
    """The ``<iframe>`` to paste (every value escaped)."""
    return str(
        Markup(
            '<iframe src="{}" title="{}" width="{}" height="{}" loading="lazy" '
            'style="border:0;max-width:100%"></iframe>'
        ).format(src, title, width, height)
    )


def share_box(page_path: str) -> dict[str, Any] | None:
    """The snippets and URLs of a page's Share / embed box, or None when not embeddable."""
    found = embed_for_path(page_path)
    if found is None:
        return None
    embed_path, embedded = found
    site = base_url()
    attribute = "competitor" if embed_path.startswith("/embed/competitors/") else "championship"
    slug = embed_path.split("/")[3]
    script = (
        f'<script type="module" src="{site}/embed.js"></script>\n'
        f'<gridfeed-schedule {attribute}="{slug}" limit="5"></gridfeed-schedule>'
    )
    calendar = site + embedded.calendar_path
    return {
        "iframe": iframe_snippet(site + embed_path, embedded.title, *IFRAME_SIZE),
        "script": script,
        "webcal": subscribe_links(calendar, embedded.title).webcal,
        "calendar": calendar,
        "feed": site + embedded.news_path,
        "oembed": site + url_for("embed.oembed", url=site + page_path, format="json"),
        "title": embedded.title,
    }


@bp.app_context_processor
def _share_box_helper() -> dict[str, Any]:
    """Pages call ``share_box(request.path)`` for their Share / embed box and oEmbed link."""
    return {"share_box": share_box}


def _positive(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        abort(400, description=f"{name}: a positive whole number of pixels, not {raw!r}")
    return int(raw)


@bp.get("/oembed")
def oembed() -> Response:
    """oEmbed (type ``rich``) for a championship, competitor or round page of this site."""
    url = request.args.get("url", "").strip()
    if not url:
        abort(400, description="url: the page to embed is required")
    fmt = request.args.get("format", "json")
    if fmt != "json":
        abort(501, description=f"format: only json is served, not {fmt!r}")
    max_width, max_height = _positive("maxwidth"), _positive("maxheight")
    parts, site = urlsplit(url), urlsplit(base_url())
    if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        abort(404, description="url: not a page of this site")
    found = embed_for_path(parts.path)
    if found is None:
        abort(404, description="url: no embeddable championship, competitor or round page")
    embed_path, embedded = found
    width = min(IFRAME_SIZE[0], max_width) if max_width else IFRAME_SIZE[0]
    height = min(IFRAME_SIZE[1], max_height) if max_height else IFRAME_SIZE[1]
    src = base_url() + embed_path + ("?compact=1" if height < IFRAME_SIZE[1] else "")
    html = iframe_snippet(src, embedded.title, width, height)
    body = {
        "version": "1.0",
        "type": "rich",
        "title": embedded.title,
        "provider_name": "gridfeed",
        "provider_url": base_url() + "/",
        "cache_age": 3600,
        "html": html,
        "width": width,
        "height": height,
    }
    response = current_app.json.response(body)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
