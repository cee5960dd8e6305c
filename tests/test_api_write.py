"""The write API through HTTP: tokens and scopes, validation, If-Match, Idempotency-Key, and
the feeds and calendars reflecting a write on the next request."""

from __future__ import annotations

import threading

import feedparser
import ics
import pytest

from .conftest import new_token

GT4 = "gt4-european-series-2023"
ROUND_2 = f"/api/v1/championships/{GT4}/rounds/2"


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _problem(response, status: int, words: str) -> dict:
    assert response.status_code == status, response.data
    assert response.content_type == "application/problem+json"
    assert words in response.json["detail"], response.json
    return response.json


# -- auth -----------------------------------------------------------------------------------


def test_missing_and_bad_tokens_are_401(client, token) -> None:
    body = {"slug": "race-3", "name": "Race 3", "kind": "race"}
    _problem(client.post(f"{ROUND_2}/sessions", json=body), 401, "bearer token is required")
    _problem(
        client.post(f"{ROUND_2}/sessions", json=body, headers=_auth(token + "x")),
        401,
        "unknown or wrong bearer token",
    )
    response = client.post(f"{ROUND_2}/sessions", json=body, headers=_auth("gf_nope"))
    _problem(response, 401, "malformed")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert token not in response.get_data(as_text=True)


def test_scoped_tokens_get_403_outside_their_scope(client, runner) -> None:
    press = new_token(
        runner.app,
        "--championship",
        "adac-gt4-germany-2023",
        "--permission",
        "articles",
        name="scoped",
    )
    body = {"slug": "race-3", "name": "Race 3", "kind": "race"}
    _problem(
        client.post(f"{ROUND_2}/sessions", json=body, headers=_auth(press)),
        403,
        "may not change calendar",
    )
    article = {
        "slug": "zandvoort-preview",
        "title": "Zandvoort preview",
        "body_markdown": "Hi",
        "championships": [GT4],
    }
    _problem(
        client.post("/api/v1/articles", json=article, headers=_auth(press)),
        403,
        "may not change articles",
    )
    article["championships"] = ["adac-gt4-germany-2023"]
    assert client.post("/api/v1/articles", json=article, headers=_auth(press)).status_code == 201


# -- championships --------------------------------------------------------------------------


def test_create_and_update_a_championship(client, token, runner) -> None:
    body = {
        "slug": "gt4-test-cup-2024",
        "name": "GT4 Test Cup 2024",
        "series": "GT4 Test Cup",
        "season": 2024,
    }
    created = client.post("/api/v1/championships", json=body, headers=_auth(token))
    assert created.status_code == 201, created.json
    assert created.headers["Location"] == "/api/v1/championships/gt4-test-cup-2024"
    _problem(
        client.post("/api/v1/championships", json=body, headers=_auth(token)), 422, "already exists"
    )
    _problem(
        client.post(
            "/api/v1/championships", json={**body, "slug": "x", "season": 1}, headers=_auth(token)
        ),
        422,
        "season",
    )
    updated = client.patch(
        "/api/v1/championships/gt4-test-cup-2024",
        json={"website": "https://gt4.example.org/"},
        headers=_auth(token, **{"If-Match": created.headers["ETag"]}),
    )
    assert updated.status_code == 200 and updated.json["website"] == "https://gt4.example.org/"
    # Only a token for every championship may create one.
    scoped = new_token(runner.app, "--championship", GT4, name="scoped")
    _problem(
        client.post(
            "/api/v1/championships", json={**body, "slug": "another-cup"}, headers=_auth(scoped)
        ),
        403,
        "may not change calendar",
    )
    results_only = new_token(runner.app, "--permission", "results", name="scoped")
    _problem(
        client.patch(
            f"/api/v1/championships/{GT4}", json={"name": "X"}, headers=_auth(results_only)
        ),
        403,
        "may not change calendar",
    )


# -- sessions -------------------------------------------------------------------------------


def test_create_then_move_then_cancel_a_session(client, token) -> None:
    created = client.post(
        f"{ROUND_2}/sessions",
        headers=_auth(token),
        json={
            "slug": "race-3",
            "name": "Race 3",
            "kind": "race",
            "local_date": "2023-06-04",
            "local_time": "11:00",
            "duration_minutes": 60,
        },
    )
    assert created.status_code == 201, created.json
    assert created.headers["Location"] == f"{ROUND_2}/sessions/race-3"
    assert created.json["start_utc"] == "2023-06-04T09:00:00Z"
    etag = client.get(f"{ROUND_2}/sessions/race-3").headers["ETag"]

    moved = client.patch(
        f"{ROUND_2}/sessions/race-3",
        json={"local_time": "12:30"},
        headers=_auth(token, **{"If-Match": etag}),
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["start_utc"] == "2023-06-04T10:30:00Z"
    assert moved.json["revision"] == 1

    cancelled = client.patch(
        f"{ROUND_2}/sessions/race-3",
        json={"status": "cancelled"},
        headers=_auth(token, **{"If-Match": moved.headers["ETag"]}),
    )
    assert cancelled.json["status"] == "cancelled" and cancelled.json["revision"] == 2
    # Still there: cancelling is a status, never a deletion.
    assert client.get(f"{ROUND_2}/sessions/race-3").json["status"] == "cancelled"


def test_updates_need_if_match_and_a_fresh_one(client, token) -> None:
    url = f"{ROUND_2}/sessions/race-2"
    _problem(
        client.patch(url, json={"local_date": "2023-06-04"}, headers=_auth(token)),
        428,
        "send If-Match",
    )
    _problem(
        client.patch(
            url, json={"local_date": "2023-06-04"}, headers=_auth(token, **{"If-Match": '"stale"'})
        ),
        412,
        "changed since you read it",
    )


def test_two_editors_with_the_same_etag_one_wins(client, token) -> None:
    url = f"{ROUND_2}/sessions/race-2"
    before = client.get(url)
    etag, revision = before.headers["ETag"], before.json["revision"]
    answers: list[int] = []

    def edit(time: str) -> None:
        response = client.application.test_client().patch(
            url,
            json={"local_date": "2023-06-04", "local_time": time},
            headers=_auth(token, **{"If-Match": etag}),
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=edit, args=(t,)) for t in ("14:00", "15:00")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(answers) == [200, 412]
    assert client.get(url).json["revision"] == revision + 1  # exactly one edit landed


@pytest.mark.parametrize(
    "body, field, words",
    [
        (
            {"slug": "race-3", "name": "R", "kind": "race", "local_date": "2023-06-09"},
            "date",
            "outside its round's dates",
        ),
        (
            {"slug": "race-3", "name": "R", "kind": "race", "local_time": "11:00"},
            "time",
            "a time needs a date",
        ),
        ({"slug": "race-3", "name": "R", "kind": "parade"}, "kind", "Must be one of"),
        ({"slug": "Race 3", "name": "R", "kind": "race"}, "slug", "must be a slug"),
        (
            {"slug": "race-3", "name": "R", "kind": "race", "colour": "red"},
            "colour",
            "Unknown field",
        ),
        ({"slug": "race-1", "name": "R", "kind": "race"}, "slug", "already exists"),
    ],
)
def test_session_validation_is_422_naming_the_field(client, token, body, field, words) -> None:
    problem = _problem(
        client.post(f"{ROUND_2}/sessions", json=body, headers=_auth(token)), 422, words
    )
    assert problem["errors"][0]["field"] == field


def test_round_rules(client, token) -> None:
    url = f"/api/v1/championships/{GT4}/rounds"
    _problem(
        client.post(
            url,
            headers=_auth(token),
            json={
                "number": 7,
                "circuit": "monza",
                "start_date": "2023-10-10",
                "end_date": "2023-10-08",
            },
        ),
        422,
        "end 2023-10-08 is before start 2023-10-10",
    )
    _problem(
        client.post(
            url,
            headers=_auth(token),
            json={
                "number": 7,
                "circuit": "atlantis",
                "start_date": "2023-10-10",
                "end_date": "2023-10-12",
            },
        ),
        404,
        "no circuit 'atlantis'",
    )
    made = client.post(
        url,
        headers=_auth(token),
        json={
            "number": 7,
            "circuit": "monza",
            "start_date": "2023-10-13",
            "end_date": "2023-10-15",
            "status": "provisional",
        },
    )
    assert made.status_code == 201, made.json
    etag = made.headers["ETag"]
    confirmed = client.patch(
        f"{url}/7", json={"status": "scheduled"}, headers=_auth(token, **{"If-Match": etag})
    )
    assert confirmed.status_code == 200 and confirmed.json["status"] == "scheduled"


def test_body_errors(client, token) -> None:
    url = f"{ROUND_2}/sessions"
    _problem(
        client.post(url, data="{not json", content_type="application/json", headers=_auth(token)),
        400,
        "Invalid JSON",
    )
    _problem(
        client.post(
            url,
            data="slug=x",
            content_type="application/x-www-form-urlencoded",
            headers=_auth(token),
        ),
        415,
        "Content-Type: application/json",
    )
    client.application.config["MAX_CONTENT_LENGTH"] = 1000
    _problem(
        client.post(url, json={"slug": "x" * 2000}, headers=_auth(token)),
        413,
        "larger than 1000 bytes",
    )


# -- results --------------------------------------------------------------------------------


def test_publish_correct_and_withdraw_results(client, token) -> None:
    url = f"/api/v1/championships/{GT4}/rounds/3/sessions"
    assert (
        client.post(
            url,
            headers=_auth(token),
            json={"slug": "race-1", "name": "Race 1", "kind": "race", "local_date": "2023-07-01"},
        ).status_code
        == 201
    )
    results_url = f"{url}/race-1/results"
    published = client.put(
        results_url,
        headers=_auth(token),
        json={"lines": [{"entry": "racing-one-backman", "position": 5}]},
    )
    assert published.status_code == 200, published.json
    assert published.json["status"] == "published"
    _problem(
        client.put(
            results_url,
            headers=_auth(token),
            json={"lines": [{"entry": "racing-one-backman", "position": 6}]},
        ),
        428,
        "If-Match",
    )
    corrected = client.put(
        results_url,
        json={"lines": [{"entry": "racing-one-backman", "position": 6, "note": "penalty"}]},
        headers=_auth(token, **{"If-Match": published.headers["ETag"]}),
    )
    assert corrected.status_code == 200 and corrected.json["lines"][0]["position"] == 6
    withdrawn = client.put(
        results_url,
        json={"status": "withdrawn", "lines": []},
        headers=_auth(token, **{"If-Match": corrected.headers["ETag"]}),
    )
    assert withdrawn.json["status"] == "withdrawn"


@pytest.mark.parametrize(
    "lines, field, words",
    [
        ([{"entry": "someone-else", "position": 1}], "lines[0].entry", "is not entered"),
        (
            [{"entry": "racing-one-backman", "driver": "nobody", "position": 1}],
            "lines[0].driver",
            "no competitor 'nobody'",
        ),
        (
            [
                {"entry": "racing-one-backman", "position": 1},
                {"entry": "racing-one-backman", "position": 1},
            ],
            "results",
            "appears more than once",
        ),
        ([{"entry": "racing-one-backman"}], "results[0].position", "needs a position"),
    ],
)
def test_results_validation(client, token, lines, field, words) -> None:
    url = f"/api/v1/championships/{GT4}/rounds/3/sessions"
    client.post(
        url, headers=_auth(token), json={"slug": "race-1", "name": "Race 1", "kind": "race"}
    )
    problem = _problem(
        client.put(f"{url}/race-1/results", headers=_auth(token), json={"lines": lines}), 422, words
    )
    assert problem["errors"][0]["field"] == field


# -- articles and idempotency ---------------------------------------------------------------


def test_article_publish_edit_unpublish(client, token) -> None:
    made = client.post(
        "/api/v1/articles",
        headers=_auth(token),
        json={
            "slug": "spa-preview",
            "title": "Spa preview",
            "body_markdown": "**Soon**",
            "championships": [GT4],
            "rounds": [f"{GT4}/3"],
            "competitors": ["jessica-backman"],
        },
    )
    assert made.status_code == 201, made.json
    edited = client.patch(
        "/api/v1/articles/spa-preview",
        json={"title": "Spa: preview"},
        headers=_auth(token, **{"If-Match": made.headers["ETag"]}),
    )
    assert edited.json["title"] == "Spa: preview"
    gone = client.patch(
        "/api/v1/articles/spa-preview",
        json={"status": "unpublished"},
        headers=_auth(token, **{"If-Match": edited.headers["ETag"]}),
    )
    assert gone.status_code == 200
    assert client.get("/api/v1/articles/spa-preview").status_code == 404
    assert client.get("/news/spa-preview").status_code == 404
    _problem(
        client.post(
            "/api/v1/articles",
            headers=_auth(token),
            json={"slug": "x", "title": "X", "body_markdown": "x", "rounds": [f"{GT4}/99"]},
        ),
        404,
        "no round 99",
    )


def test_retried_post_with_the_same_idempotency_key_creates_nothing_twice(client, token) -> None:
    body = {"slug": "race-3", "name": "Race 3", "kind": "race"}
    headers = _auth(token, **{"Idempotency-Key": "abc-123"})
    first = client.post(f"{ROUND_2}/sessions", json=body, headers=headers)
    assert first.status_code == 201
    version = client.get("/healthz").data
    again = client.post(f"{ROUND_2}/sessions", json=body, headers=headers)
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get("/healthz").data == version  # nothing was written the second time
    _problem(
        client.post(f"{ROUND_2}/sessions", json={**body, "name": "Other"}, headers=headers),
        422,
        "already used for a different request",
    )


# -- consistency ----------------------------------------------------------------------------


def test_a_write_shows_at_once_in_api_feeds_and_pages(client, token) -> None:
    api_before = client.get(f"{ROUND_2}/sessions/race-2")
    feed_before = client.get(f"/championships/{GT4}/news.atom")
    calendar_before = client.get(f"/championships/{GT4}/calendar.ics")
    etag = api_before.headers["ETag"]
    moved = client.patch(
        f"{ROUND_2}/sessions/race-2",
        headers=_auth(token, **{"If-Match": etag}),
        json={"local_date": "2023-06-04", "local_time": "14:00"},
    )
    assert moved.status_code == 200
    api_after = client.get(f"{ROUND_2}/sessions/race-2")
    assert api_after.headers["ETag"] != etag and api_after.json["local_time"] == "14:00"
    feed_after = client.get(f"/championships/{GT4}/news.atom")
    assert feed_after.headers["ETag"] != feed_before.headers["ETag"]
    titles = [e.title for e in feedparser.parse(feed_after.data).entries]
    assert "Circuit Paul Ricard, Race 2 time set: Sun 4 June 14:00 CEST (12:00 UTC)" in titles
    page = client.get(f"/championships/{GT4}/rounds/2").get_data(as_text=True)
    assert "Sun 4 June 14:00 CEST" in page
    calendar_after = client.get(f"/championships/{GT4}/calendar.ics")
    assert calendar_after.headers["ETag"] != calendar_before.headers["ETag"]
    [race_2] = [
        e
        for e in ics.Calendar(calendar_after.get_data(as_text=True)).events
        if e.uid.startswith(f"{GT4}.2.race-2@")
    ]
    assert race_2.begin.to("UTC").isoformat() == "2023-06-04T12:00:00+00:00"


@pytest.mark.parametrize("body", [{"name": None}, {"series": None}, {"name": "x" * 201}])
def test_championship_patch_refuses_null_or_overlong_names(client, token, body) -> None:
    path = f"/api/v1/championships/{GT4}"
    etag = client.get(path).headers["ETag"]
    response = client.patch(path, json=body, headers=_auth(token, **{"If-Match": etag}))
    problem = _problem(response, 422, next(iter(body)))
    assert problem["errors"][0]["field"] == next(iter(body))
    assert client.get(path).headers["ETag"] == etag
