"""Publishing: feeds rendered on write and served as stored bytes, gzip from the stored copy,
files and X-Accel-Redirect for a front, CDN headers, the release step and readiness."""

from __future__ import annotations

import email.utils
import gzip
import sqlite3
import time
from pathlib import Path

import pytest
import vobject
from flask import Flask
from flask.testing import FlaskClient

from .conftest import make_app, new_token
from .helpers import copy_data, edit_yaml
from .notify_helpers import GT4, ROUND_2, auth

ROUND_2_ICS = f"/championships/{GT4}/rounds/2.ics"
GT4_ICS = f"/championships/{GT4}/calendar.ics"


def _uids(body: bytes) -> set[str]:
    calendar = vobject.readOne(body.decode("utf-8"))
    return {event.uid.value for event in calendar.contents.get("vevent", [])}


def _add_session(client: FlaskClient, token: str, slug: str, time: str = "11:00") -> None:
    response = client.post(
        f"{ROUND_2}/sessions",
        headers=auth(token),
        json={
            "slug": slug,
            "name": slug.replace("-", " ").title(),
            "kind": "race",
            "local_date": "2023-06-04",
            "local_time": time,
            "duration_minutes": 60,
        },
    )
    assert response.status_code == 201, response.json


def _jobs(db_path: Path) -> list[tuple[str, int]]:
    """The publish queue as the store holds it: (scope, times requested)."""
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT scope, requested FROM publish_jobs ORDER BY scope").fetchall()


def test_feeds_are_served_from_stored_bytes_until_published_again(db_path: Path) -> None:
    app = make_app(db_path, AUTO_SEED=False)
    before = app.test_client().get(GT4_ICS)
    assert before.status_code == 200
    # Change the data behind the write path's back: nothing queues a publication, so a request
    # (even in a fresh process, with nothing in memory) must serve the stored bytes unchanged.
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE championships SET name = 'Renamed Series' WHERE slug = ?", (GT4,))
    fresh = make_app(db_path, AUTO_SEED=False).test_client().get(GT4_ICS)
    assert fresh.data == before.data and fresh.headers["ETag"] == before.headers["ETag"]
    # The release step publishes everything again.
    result = app.test_cli_runner().invoke(args=["publish"])
    assert result.exit_code == 0, result.output
    after = make_app(db_path, AUTO_SEED=False).test_client().get(GT4_ICS)
    assert b"Renamed Series" in after.data and after.headers["ETag"] != before.headers["ETag"]


def test_a_write_is_published_before_it_returns_with_the_variants_asked_for(
    client: FlaskClient, token: str
) -> None:
    variant = f"{ROUND_2_ICS}?alarm=30&tz=utc"
    assert client.get(variant).status_code == 200  # published on first request
    _add_session(client, token, "race-3")
    uid = f"{GT4}.2.race-3@gridfeed.test"
    for url in (ROUND_2_ICS, variant, GT4_ICS, "/calendar.ics"):
        assert uid in _uids(client.get(url).data), url
    event = next(
        e
        for e in vobject.readOne(client.get(variant).data.decode()).contents["vevent"]
        if e.uid.value == uid
    )
    assert event.dtstart.value.utcoffset().total_seconds() == 0  # tz=utc: 09:00Z
    assert event.valarm.trigger.value.total_seconds() == -30 * 60


def test_a_publication_longer_than_the_wait_finishes_after_the_write_returns(
    db_path: Path,
) -> None:
    """The writing process publishes in a thread its response waits for only so long: with no
    wait at all the write returns at once and its change is still published, by that thread."""
    app = make_app(db_path, AUTO_SEED=False, PUBLISH_WAIT_SECONDS=0)
    client = app.test_client()
    _add_session(client, new_token(app), "race-3")
    uid = f"{GT4}.2.race-3@gridfeed.test"
    for _ in range(200):  # up to 20 s: a deadline, not a speed
        if uid in _uids(client.get(ROUND_2_ICS).data):
            break
        time.sleep(0.1)
    assert uid in _uids(client.get(ROUND_2_ICS).data)
    assert _jobs(db_path) == []


def test_option_spellings_share_one_canonical_feed(client: FlaskClient) -> None:
    one = client.get(f"{GT4_ICS}?tz=utc&alarm=30&alarm=30&exclude=practice,weekend")
    other = client.get(f"{GT4_ICS}?exclude=weekend&exclude=practice&alarm=30&tz=utc")
    assert one.status_code == other.status_code == 200
    assert one.data == other.data and one.headers["ETag"] == other.headers["ETag"]
    canonical = f"http://localhost{GT4_ICS}?exclude=practice&exclude=weekend&alarm=30&tz=utc"
    assert one.headers["Link"].startswith(f'<{canonical}>; rel="self"')


def test_without_in_process_publishing_the_worker_publishes_coalesced_work(
    db_path: Path,
) -> None:
    app = make_app(db_path, AUTO_SEED=False, PUBLISH_IN_PROCESS="0")
    client, token = app.test_client(), new_token(app)
    before = client.get(ROUND_2_ICS).data
    _add_session(client, token, "race-3")
    _add_session(client, token, "race-4", "15:00")
    # Two writes to one round wait as one job, requested twice; readers see the old bytes.
    assert _jobs(db_path) == [(f"round:{GT4}:2", 2)]
    assert client.get(ROUND_2_ICS).data == before
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert _jobs(db_path) == []
    uids = _uids(client.get(ROUND_2_ICS).data)
    assert {f"{GT4}.2.race-3@gridfeed.test", f"{GT4}.2.race-4@gridfeed.test"} <= uids


def test_gzip_is_the_stored_copy_and_only_when_accepted(client: FlaskClient) -> None:
    plain = client.get("/news.atom")
    zipped = client.get("/news.atom", headers={"Accept-Encoding": "gzip, deflate"})
    refused = client.get("/news.atom", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in plain.headers and "Content-Encoding" not in refused.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data == refused.data
    assert len(zipped.data) < len(plain.data)
    for response in (plain, zipped):
        assert "accept-encoding" in response.headers["Vary"].lower()
    assert zipped.headers["ETag"] == plain.headers["ETag"]
    again = client.get(
        "/news.atom", headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""


def test_purge_tags_name_the_championships_shown(client: FlaskClient) -> None:
    gt4 = client.get(GT4_ICS)
    assert set(gt4.headers["Surrogate-Key"].split()) == {"feeds", f"championship-{GT4}"}
    assert gt4.headers["Cache-Tag"].split(",") == gt4.headers["Surrogate-Key"].split()
    everything = set(client.get("/news.json").headers["Surrogate-Key"].split())
    assert {f"championship-{GT4}", "championship-adac-gt4-germany-2023"} <= everything
    driver = set(
        client.get("/competitors/jessica-backman/calendar.ics").headers["Surrogate-Key"].split()
    )
    assert "competitor-jessica-backman" in driver and f"championship-{GT4}" in driver


def _http_date(value: str) -> float:
    return email.utils.parsedate_to_datetime(value).timestamp()


def test_published_files_and_their_gzip_siblings(app: Flask, token: str) -> None:
    client = app.test_client()
    publish_dir = Path(app.config["PUBLISH_DIR"])
    path = publish_dir / "localhost" / GT4_ICS.lstrip("/")
    response = client.get(GT4_ICS)
    assert path.read_bytes() == response.data
    assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == response.data
    assert path.stat().st_mtime == _http_date(response.headers["Last-Modified"])
    _add_session(client, token, "race-3")
    after = client.get(GT4_ICS)
    assert after.data != response.data and path.read_bytes() == after.data
    assert not list(publish_dir.rglob(".tmp-*"))  # every file was renamed into place


def test_x_accel_redirect_hands_200s_to_the_front(db_path: Path, tmp_path: Path) -> None:
    publish_dir = tmp_path / "front-files"
    app = make_app(
        db_path, AUTO_SEED=False, ACCEL_REDIRECT_PREFIX="/_published/", PUBLISH_DIR=str(publish_dir)
    )
    client = app.test_client()
    url = f"{GT4_ICS}?tz=utc&alarm=30"
    response = client.get(url)
    target = f"localhost{GT4_ICS}@alarm=30&tz=utc"
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Accel-Redirect"] == f"/_published/{target}"
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "championship-" + GT4 in response.headers["Surrogate-Key"]
    # The web process wrote the file itself (the worker of this machine may run elsewhere).
    body = (publish_dir / target).read_bytes()
    assert f"{GT4}.2.race-1@gridfeed.test" in _uids(body)
    etag = response.headers["ETag"]
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and "X-Accel-Redirect" not in not_modified.headers
    head = client.head(url)
    assert head.status_code == 200 and "X-Accel-Redirect" not in head.headers


def test_readyz_waits_for_the_first_publication(tmp_path: Path) -> None:
    app = make_app(tmp_path / "fresh.sqlite3", PUBLISH_IN_PROCESS="0")
    client = app.test_client()
    waiting = client.get("/readyz")
    assert waiting.status_code == 503 and "publishing" in waiting.get_data(as_text=True)
    assert waiting.headers["Retry-After"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready
    result = app.test_cli_runner().invoke(args=["publish"])
    assert result.exit_code == 0 and "Published every feed" in result.output
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/competitors/nobody/news.json",
        "/competitors/nobody/news.json?limit=5",
        "/championships/no-such-series/calendar.ics?alarm=15",
        f"/championships/{GT4}/rounds/99.ics?tz=utc",
    ],
)
def test_unknown_feeds_and_their_variants_are_404_and_stay_unpublished(
    client: FlaskClient, db_path: Path, url: str
) -> None:
    assert client.get(url).status_code == 404
    assert client.get(url).status_code == 404
    with sqlite3.connect(db_path) as db:
        keys = [key for (key,) in db.execute("SELECT key FROM published_feeds")]
    assert not [key for key in keys if "nobody" in key or "no-such" in key or "/99.ics" in key]


def _descriptions(body: bytes) -> list[str]:
    calendar = vobject.readOne(body.decode("utf-8"))
    return [e.description.value for e in calendar.contents.get("vevent", [])]


def test_names_shown_in_unchanged_sessions_are_republished(
    client: FlaskClient, token: str, tmp_path: Path, runner
) -> None:
    """Event facts are remembered across publications; a change that touches no session's
    revision (a championship or driver renamed) must still reach every event."""
    assert any("Jessica Bäckman" in d for d in _descriptions(client.get(GT4_ICS).data))
    etag = client.get(f"/api/v1/championships/{GT4}").headers["ETag"]
    renamed = client.patch(
        f"/api/v1/championships/{GT4}",
        json={"name": "GT4 Renamed Series 2023"},
        headers=auth(token, **{"If-Match": etag}),
    )
    assert renamed.status_code == 200, renamed.json
    descriptions = _descriptions(client.get("/calendar.ics").data)
    gt4_events = [d for d in descriptions if "GT4 Renamed Series 2023" in d]
    assert gt4_events and not [d for d in descriptions if "GT4 European Series 2023" in d]
    # A driver renamed in the data files (no session changes): results lines follow.
    data = copy_data(tmp_path / "data")
    edit_yaml(
        data / "people.yaml",
        lambda doc: next(c for c in doc["competitors"] if c["slug"] == "jessica-backman").update(
            name="Jessica Renamed"
        ),
    )
    imported = runner.invoke(args=["data", "import", str(data / "people.yaml")])
    assert imported.exit_code == 0, imported.output
    descriptions = _descriptions(client.get(GT4_ICS).data)
    assert any("Jessica Renamed" in d for d in descriptions)
    assert not any("Jessica Bäckman" in d for d in descriptions)
