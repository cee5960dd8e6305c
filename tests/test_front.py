"""The production front for real: nginx rendered from ``deploy/nginx.conf`` in front of the
Procfile's gunicorn, on loopback. 200s, 304s and gzip through the front, the same bytes and
headers as the app, a write visible through the front, and nothing outside the published
feeds served from disk.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import jsonschema
import pytest
import requests
import vobject

from service.publish.files import write_feed_files

from .conftest import REPO_ROOT
from .servers import free_port, gunicorn, nginx, render_nginx_conf, require

GT4 = "gt4-european-series-2023"
RACE_1 = f"/api/v1/championships/{GT4}/rounds/2/sessions/race-1"
FEEDS = (
    "/calendar.ics",
    f"/championships/{GT4}/calendar.ics",
    f"/championships/{GT4}/rounds/2.ics",
    "/competitors/jessica-backman/calendar.ics",
    "/series/gt4-european-series/calendar.ics",
    "/news.atom",
    "/news.rss",
    "/news.json",
    f"/championships/{GT4}/news.atom",
)
JSON_FEED_SCHEMA = json.loads(
    (Path(__file__).parent / "jsonfeed_1_1.schema.json").read_text(encoding="utf-8")
)
# What a feed answer must say the same way whether nginx or the app served it.
SAME_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "Last-Modified",
    "Link",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Content-Disposition",
)


@dataclass(frozen=True)
class Front:
    """nginx on ``url`` in front of the gunicorn on ``app_url``, sharing ``env``."""

    url: str
    app_url: str
    env: dict[str, str]
    published: Path


def app_env(db: Path, base_url: str, publish_dir: Path) -> dict[str, str]:
    """The environment of every gridfeed process behind one front."""
    return {
        "DATABASE_URL": f"sqlite:///{db}",
        "GRIDFEED_AUTO_SEED": "0",
        "GRIDFEED_DOMAIN": "gridfeed.test",
        "GRIDFEED_PUBLIC_BASE_URL": base_url,
        "GRIDFEED_PUBLISH_DIR": str(publish_dir),
        "GRIDFEED_TRUSTED_PROXY_HOPS": "1",
        "GRIDFEED_FEED_VERSION_RECHECK_SECONDS": "0.2",
    }


@pytest.fixture(scope="module")
def front(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    require("nginx")
    tmp = tmp_path_factory.mktemp("front")
    db = tmp / "gridfeed.sqlite3"
    shutil.copy(seeded_template, db)
    front_port, app_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{front_port}"
    publish_dir = tmp / "published"
    env = app_env(db, base_url, publish_dir)
    conf = render_nginx_conf(
        tmp / "nginx",
        listen=front_port,
        upstreams=[app_port],
        publish_dir=publish_dir,
        base_url=base_url,
    )
    with gunicorn(app_port, env, tmp / "gunicorn.log"), nginx(conf, front_port) as url:
        yield Front(url, f"http://127.0.0.1:{app_port}", env, publish_dir)


def raw_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """GET without any decoding: status, headers (lower-case names), body bytes as sent."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def parses(path: str, body: bytes) -> None:
    """Check ``body`` with an independent parser for its format."""
    if path.endswith(".ics"):
        calendar = vobject.readOne(body.decode("utf-8"))
        assert calendar.name == "VCALENDAR"
    elif path.endswith(".json"):
        jsonschema.validate(json.loads(body), JSON_FEED_SCHEMA)
    else:
        feed = feedparser.parse(body)
        assert not feed.bozo, feed.bozo_exception
        assert feed.feed.get("title")


def new_token(env: dict[str, str]) -> str:
    """A token made with the CLI against the same database, as an operator would."""
    made = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service", "tokens", "create", "front-test"],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("path", FEEDS)
def test_front_serves_feeds_with_200_and_304(front: Front, path: str) -> None:
    status, headers, body = raw_get(front.url + path)
    assert status == 200, body[:300]
    parses(path, body)
    assert body == requests.get(front.app_url + path, timeout=30).content
    etag = headers["etag"]
    status, again, empty = raw_get(front.url + path, {"If-None-Match": etag})
    assert (status, empty) == (304, b"")
    assert again["etag"] == etag
    status, _, empty = raw_get(front.url + path, {"If-Modified-Since": headers["last-modified"]})
    assert (status, empty) == (304, b"")
    status, _, _ = raw_get(front.url + path, {"If-None-Match": '"not-the-etag"'})
    assert status == 200


@pytest.mark.parametrize("path", FEEDS)
def test_front_gzips_feeds_to_the_same_bytes(front: Front, path: str) -> None:
    _, _, plain = raw_get(front.url + path)
    status, headers, compressed = raw_get(front.url + path, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    assert "accept-encoding" in headers.get("vary", "").lower()
    assert gzip.decompress(compressed) == plain
    if len(plain) > 20_000:  # a calendar of any size compresses well: the bytes sent shrink
        assert len(compressed) < len(plain) / 4
    status, _, empty = raw_get(
        front.url + path, {"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]}
    )
    assert (status, empty) == (304, b"")


@pytest.mark.parametrize("path", FEEDS)
def test_front_says_what_the_app_says(front: Front, path: str) -> None:
    _, ours, _ = raw_get(front.url + path)
    _, app, _ = raw_get(front.app_url + path)
    for name in SAME_HEADERS:
        assert ours.get(name.lower()) == app.get(name.lower()), name
    # Purge tags: nginx names what the path names; never a tag the app does not give.
    for name, separator in (("surrogate-key", " "), ("cache-tag", ",")):
        if name in app:
            assert set(ours[name].split(separator)) <= set(app[name].split(separator))


def test_published_feeds_are_served_from_disk(front: Front) -> None:
    """The files the worker writes are what nginx sends, byte for byte."""
    netloc = urlsplit(front.url).netloc
    files = sorted((front.published / netloc).rglob("*.ics"))
    if not files:
        pytest.fail(f"nothing published under {front.published}")
    for file in files:
        path = "/" + file.relative_to(front.published / netloc).as_posix()
        if "@" in path:
            continue
        _, headers, body = raw_get(front.url + path)
        assert body == file.read_bytes(), path
        assert email.utils.parsedate_to_datetime(headers["last-modified"]).timestamp() == int(
            file.stat().st_mtime
        )


def test_non_canonical_queries_and_internal_paths_go_to_the_app(front: Front) -> None:
    canonical = requests.get(f"{front.url}/calendar.ics?alarm=30&tz=utc", timeout=30)
    reordered = requests.get(f"{front.url}/calendar.ics?tz=utc&alarm=30", timeout=30)
    assert canonical.status_code == reordered.status_code == 200
    assert canonical.content == reordered.content
    plain = requests.get(f"{front.url}/calendar.ics", timeout=30)
    # A query that could name another file is never looked up on disk: the app answers it
    # (a 400 naming the parameter, or the feed itself where the app ignores the parameter).
    for query in ("../../../../etc/passwd", "x=/../../news.atom", "alarm=30%2F..%2F"):
        response = requests.get(f"{front.url}/calendar.ics?{query}", timeout=30)
        assert response.status_code in (200, 400), query
        if response.status_code == 200:
            assert response.content == plain.content, query
    assert requests.get(f"{front.url}/_published/calendar.ics", timeout=30).status_code == 404
    assert requests.get(f"{front.url}/healthz", timeout=30).status_code == 200


def test_a_write_through_the_front_is_served_by_the_front(front: Front) -> None:
    path = f"/championships/{GT4}/calendar.ics"
    before = requests.get(front.url + path, timeout=30)
    token = new_token(front.env)
    auth = {"Authorization": f"Bearer {token}"}
    current = requests.get(front.url + RACE_1, timeout=30)
    new_time = "11:07" if current.json()["local_time"] != "11:07:00" else "12:07"
    changed = requests.patch(
        front.url + RACE_1,
        json={"local_time": new_time},
        headers={**auth, "If-Match": current.headers["ETag"]},
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    returned = time.monotonic()
    while True:
        after = requests.get(front.url + path, headers={"If-None-Match": before.headers["ETag"]})
        if after.status_code == 200 and f"T{new_time.replace(':', '')}00".encode() in after.content:
            break
        assert time.monotonic() - returned < 1.0, "the front still serves the old calendar"
        time.sleep(0.02)
    parses(path, after.content)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_a_feed_republished_within_its_second_gets_a_new_etag_from_nginx(
    tmp_path: Path,
) -> None:
    """nginx's ETag of a file is its mtime in whole seconds and its size. Two versions of a
    feed of the same size (a session moved by a minute) published within one second must
    still get different ETags, or a client holding the first is told 304 for the second."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    publish_dir = tmp_path / "published"
    conf = render_nginx_conf(
        tmp_path / "nginx",
        listen=port,
        upstreams=[free_port()],  # nothing there: every answer below comes from the files
        publish_dir=publish_dir,
        base_url=base_url,
    )
    key = f"{base_url}/championships/{GT4}/calendar.ics"
    changed_at = dt.datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=dt.UTC)
    first = b"BEGIN:VCALENDAR\r\nX-START:100000\r\nEND:VCALENDAR\r\n"
    second = first.replace(b"100000", b"100100")
    with nginx(conf, port) as url:
        write_feed_files(str(publish_dir), key, first, gzip.compress(first), changed_at)
        _, old, body = raw_get(url + urlsplit(key).path)
        assert body == first
        later = changed_at + dt.timedelta(milliseconds=500)  # the same second
        write_feed_files(str(publish_dir), key, second, gzip.compress(second), later)
        status, new, body = raw_get(url + urlsplit(key).path, {"If-None-Match": old["etag"]})
        assert (status, body) == (200, second), "nginx answered 304 for a changed feed"
        assert new["etag"] != old["etag"]
        status, _, _ = raw_get(url + urlsplit(key).path, {"If-None-Match": new["etag"]})
        assert status == 304


@pytest.fixture(scope="module")
def accel_front(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """The same front with the app in X-Accel-Redirect mode (one nginx per machine)."""
    require("nginx")
    tmp = tmp_path_factory.mktemp("accel")
    db = tmp / "gridfeed.sqlite3"
    shutil.copy(seeded_template, db)
    front_port, app_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{front_port}"
    publish_dir = tmp / "published"
    env = {**app_env(db, base_url, publish_dir), "GRIDFEED_ACCEL_REDIRECT_PREFIX": "/_published/"}
    conf = render_nginx_conf(
        tmp / "nginx",
        listen=front_port,
        upstreams=[app_port],
        publish_dir=publish_dir,
        base_url=base_url,
    )
    with gunicorn(app_port, env, tmp / "gunicorn.log"), nginx(conf, front_port) as url:
        yield Front(url, f"http://127.0.0.1:{app_port}", env, publish_dir)


@pytest.mark.parametrize("path", FEEDS)
def test_x_accel_redirect_mode_sends_the_file_with_the_apps_headers(
    accel_front: Front, path: str
) -> None:
    # A variant in a non-canonical spelling: nginx does not look it up on disk (the canonical
    # spelling would be found there once published, and served with the front's own headers).
    path = f"{path}?{'tz=utc&alarm=30' if path.endswith('.ics') else 'limit=010'}"
    _, app, empty = raw_get(accel_front.app_url + path)
    redirect = app.get("x-accel-redirect", "")
    assert redirect.startswith("/_published/") and empty == b"", (redirect, empty[:200])
    file = accel_front.published / redirect.removeprefix("/_published/")
    status, ours, body = raw_get(accel_front.url + path)
    assert status == 200 and "x-accel-redirect" not in ours
    assert body == file.read_bytes()
    parses(path.split("?")[0], body)
    for name in (*SAME_HEADERS, "Surrogate-Key", "Cache-Tag"):
        if name != "Last-Modified":
            assert ours.get(name.lower()) == app.get(name.lower()), name
    status, zipped, packed = raw_get(accel_front.url + path, {"Accept-Encoding": "gzip"})
    assert zipped.get("content-encoding") == "gzip" and gzip.decompress(packed) == body
    status, _, empty = raw_get(accel_front.url + path, {"If-None-Match": ours["etag"]})
    assert (status, empty) == (304, b"")
