"""Authorization on the stored record and the request both, decided before the body is read:
401 before anything else, 403 before validation, and a token scoped elsewhere changes nothing
on any write operation the OpenAPI document lists."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from flask import Flask

from .conftest import make_app, new_token

GT4 = "gt4-european-series-2023"
ADAC = "adac-gt4-germany-2023"
SHARED_ARTICLE = "tough-weekend-for-the-backman-siblings-in-france"
WRITE_METHODS = ("post", "put", "patch", "delete")


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _dump(db_path: Path) -> str:
    """Every row of every table, to show that a refused write changed nothing."""
    with sqlite3.connect(db_path) as conn:
        return "\n".join(conn.iterdump())


def _write_operations(app: Flask) -> list[tuple[str, str]]:
    spec = app.test_client().get("/api/v1/openapi.json").json
    return sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in WRITE_METHODS
    )


def _webhook_for_gt4(client, token: str) -> str:
    created = client.post(
        "/api/v1/webhooks",
        json={
            "url": "https://hooks.example.org/gt4",
            "event_types": ["session.changed"],
            "championship": GT4,
        },
        headers=_auth(token),
    )
    assert created.status_code == 201, created.json
    return created.json["id"]


# Values for the path parameters of write operations, all naming GT4 objects (or objects
# shared by every championship). A new write operation with a parameter not named here fails
# the table test until it is added.
def _path_values(path: str, webhook_id: str) -> dict[str, str]:
    slugs = {
        "/api/v1/articles/": SHARED_ARTICLE,
        "/api/v1/circuits/": "paul-ricard",
        "/api/v1/teams/": "racing-one",
        "/api/v1/competitors/": "jessica-backman",
    }
    slug = next((v for prefix, v in slugs.items() if path.startswith(prefix)), GT4)
    return {
        "slug": slug,
        "number": "2",
        "session_slug": "free-practice-1",
        "entry_slug": "racing-one-backman",
        "public_id": webhook_id,
        "message_id": "msg_0000000000000000",
    }


def _fill(path: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"add a value for the path parameter {name!r} of {path}"
        return values[name]

    return re.sub(r"\{(\w+)\}", value, path)


@pytest.fixture
def resolving_app(db_path: Path) -> Flask:
    return make_app(db_path, AUTO_SEED=False, DNS_RESOLVER=lambda host, port: ["93.184.215.14"])


def test_every_write_operation_refuses_a_token_scoped_elsewhere(resolving_app, db_path) -> None:
    app = resolving_app
    client = app.test_client()
    webhook_id = _webhook_for_gt4(client, new_token(app, name="everything"))
    elsewhere = new_token(app, "--championship", ADAC, name="adac-press")
    operations = _write_operations(app)
    assert len(operations) >= 10
    before = _dump(db_path)
    # A body naming GT4 (outside the token's scope); and, on an existing object, the trick of
    # the report: a body moving the object into the token's own scope.
    gt4 = {"championships": [GT4], "championship": GT4, "rounds": [f"{GT4}/2"]}
    trick = {"championships": [ADAC], "championship": ADAC, "title": "Hijacked"}
    for method, path in operations:
        url = _fill(path, _path_values(path, webhook_id))
        bodies = [gt4, trick] if "{" in path else [gt4]
        for body in bodies:
            response = client.open(
                url, method=method, json=body, headers=_auth(elsewhere, **{"If-Match": '"x"'})
            )
            assert response.status_code == 403, (method, path, body, response.json)
            assert response.content_type == "application/problem+json"
    assert _dump(db_path) == before


def test_creations_need_every_named_championship_in_scope(client, app, db_path) -> None:
    elsewhere = new_token(app, "--championship", ADAC, name="adac-press")
    before = _dump(db_path)
    article = {"slug": "x", "title": "X", "body_markdown": "x", "championships": [ADAC, GT4]}
    assert (
        client.post("/api/v1/articles", json=article, headers=_auth(elsewhere)).status_code == 403
    )
    article = {**article, "championships": [ADAC], "rounds": [f"{GT4}/2"]}
    assert (
        client.post("/api/v1/articles", json=article, headers=_auth(elsewhere)).status_code == 403
    )
    champ = {"slug": "new-cup", "name": "New", "series": "New", "season": 2024}
    assert (
        client.post("/api/v1/championships", json=champ, headers=_auth(elsewhere)).status_code
        == 403
    )
    hook = {
        "url": "https://hooks.example.org/",
        "event_types": ["session.changed"],
        "championship": GT4,
    }
    assert client.post("/api/v1/webhooks", json=hook, headers=_auth(elsewhere)).status_code == 403
    assert _dump(db_path) == before


def test_the_shared_article_cannot_be_moved_or_unpublished_by_one_of_its_championships(
    client, app, db_path
) -> None:
    # The report: a token for one of the article's championships moved it into its own scope.
    adac = new_token(app, "--championship", ADAC, "--permission", "articles", name="adac")
    etag = client.get(f"/api/v1/articles/{SHARED_ARTICLE}").headers["ETag"]
    before = _dump(db_path)
    for body in ({"championships": [ADAC], "title": "Moved"}, {"status": "unpublished"}):
        response = client.patch(
            f"/api/v1/articles/{SHARED_ARTICLE}",
            json=body,
            headers=_auth(adac, **{"If-Match": etag}),
        )
        assert response.status_code == 403, response.json
        assert GT4 in response.json["detail"]
    assert _dump(db_path) == before
    # A token covering both may still edit it.
    both = new_token(app, "--championship", ADAC, "--championship", GT4, name="both")
    response = client.patch(
        f"/api/v1/articles/{SHARED_ARTICLE}",
        json={"title": "Edited"},
        headers=_auth(both, **{"If-Match": etag}),
    )
    assert response.status_code == 200, response.json


def test_an_undeclared_write_route_is_refused_for_every_token(db_path) -> None:
    app = make_app(db_path, AUTO_SEED=False)
    calls = []
    app.add_url_rule(
        "/api/v1/undeclared", "undeclared", lambda: calls.append(1) or "", methods=["POST"]
    )
    token = new_token(app)
    response = app.test_client().post("/api/v1/undeclared", json={}, headers=_auth(token))
    assert response.status_code == 403 and "authorization rule" in response.json["detail"]
    assert calls == []


def test_anonymous_writes_get_401_before_the_body_is_looked_at(resolving_app) -> None:
    client = resolving_app.test_client()
    for method, path in _write_operations(resolving_app):
        url = _fill(path, _path_values(path, "wh_0000000000000000"))
        for body in ({"slug": 5, "nonsense": True}, None):
            response = client.open(url, method=method, json=body)
            assert response.status_code == 401, (method, path, response.json)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_scoped_token_gets_403_before_its_body_is_validated(client, app) -> None:
    adac = new_token(app, "--championship", ADAC, name="adac")
    response = client.post(
        f"/api/v1/championships/{GT4}/rounds/2/sessions", json={"slug": 5}, headers=_auth(adac)
    )
    assert response.status_code == 403, response.json
