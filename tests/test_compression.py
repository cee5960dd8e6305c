"""Dynamic gzip for the API's JSON and the HTML pages; feeds use their stored gzip copy."""

from __future__ import annotations

import gzip
import json

from flask.testing import FlaskClient

from .notify_helpers import GT4, auth

GZIP = {"Accept-Encoding": "gzip"}


def test_api_json_is_gzipped_when_accepted_and_if_match_still_works(
    client: FlaskClient, token: str
) -> None:
    url = f"/api/v1/championships/{GT4}"
    plain = client.get(url)
    zipped = client.get(url, headers=GZIP)
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.json
    for response in (plain, zipped):
        assert "accept-encoding" in response.headers["Vary"].lower()
    # The validator is the resource's: an ETag read through gzip is a good If-Match.
    assert zipped.headers["ETag"] == plain.headers["ETag"]
    updated = client.patch(
        url,
        json={"website": "https://gt4.example.org/"},
        headers=auth(token, **{"If-Match": zipped.headers["ETag"]}, **GZIP),
    )
    assert updated.status_code == 200
    assert json.loads(gzip.decompress(updated.data))["website"] == "https://gt4.example.org/"


def test_pages_and_problems_are_gzipped_and_small_answers_are_not(client: FlaskClient) -> None:
    page = client.get("/", headers=GZIP)
    assert page.headers["Content-Encoding"] == "gzip"
    assert "GT4 European Series" in gzip.decompress(page.data).decode()
    problem = client.get("/api/v1/sessions?from=yesterday", headers=GZIP)
    assert problem.status_code == 400
    body = gzip.decompress(problem.data) if "Content-Encoding" in problem.headers else problem.data
    assert "from" in json.loads(body)["detail"] + json.dumps(json.loads(body).get("errors", []))
    health = client.get("/healthz", headers=GZIP)
    assert "Content-Encoding" not in health.headers and health.data.startswith(b"ok")


def test_feeds_are_not_compressed_again(client: FlaskClient) -> None:
    response = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data).startswith(b"BEGIN:VCALENDAR")
