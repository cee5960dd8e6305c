"""The public read API: shapes, times three ways, filters, paging, ETags, errors."""

from __future__ import annotations

import pytest

GT4 = "gt4-european-series-2023"


def test_session_times_are_given_three_ways_and_tbc_is_explicit(client) -> None:
    response = client.get(f"/api/v1/championships/{GT4}/rounds/2/sessions/race-1")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json
    assert body["local_date"] == "2023-06-03"
    assert body["local_time"] is None and body["local_start"] is None
    assert body["start_utc"] is None and body["end_utc"] is None
    assert body["time_tbc"] is True and body["time_note"] == "afternoon"
    assert body["timezone"] == "Europe/Paris"
    assert body["url"] == f"/api/v1/championships/{GT4}/rounds/2/sessions/race-1"


def test_a_timed_session_has_local_zone_and_utc(app, client) -> None:
    import datetime as dt

    from sqlalchemy import select

    from service.domain.models import Round
    from service.writes import write

    with write(app, actor="test") as w:
        round_3 = w.session.scalar(select(Round).where(Round.number == 3))
        w.upsert_session(
            round_3,
            "race-1",
            {
                "name": "Race 1",
                "kind": "race",
                "local_date": dt.date(2023, 7, 1),
                "local_time": dt.time(15, 30),
                "duration_minutes": 60,
            },
        )
    body = client.get(f"/api/v1/championships/{GT4}/rounds/3/sessions/race-1").json
    assert (body["local_date"], body["local_time"]) == ("2023-07-01", "15:30")
    assert body["local_start"] == "2023-07-01T15:30:00+02:00"
    assert body["timezone"] == "Europe/Brussels"
    assert (body["start_utc"], body["end_utc"]) == ("2023-07-01T13:30:00Z", "2023-07-01T14:30:00Z")
    assert body["time_tbc"] is False


def test_results_and_competitor_filters(client) -> None:
    results = client.get("/api/v1/results?competitor=andreas-backman").json["items"]
    sessions = [r["session"]["slug"] for r in results]
    # Andreas did not drive qualifying 1 (Jessica did), so it is not his result.
    assert sessions == ["qualifying-2", "race-1", "free-practice-1", "free-practice-2", "race-2"]
    race_1 = next(r for r in results if r["session"]["slug"] == "race-1")
    assert race_1["lines"] == [
        {
            "entry": "racing-one-backman",
            "driver": None,
            "competitors": ["andreas-backman", "jessica-backman"],
            "position": None,
            "outcome": "DNF",
            "class_position": None,
            "note": "Retired on lap 1 after an incident damaged the front of the car.",
            # The seed has no timing-sheet fields: they are there, and null.
            "number": None,
            "class": None,
            "laps": None,
            "total_time": None,
            "gap": None,
            "best_lap": None,
        }
    ]
    quali = client.get(f"/api/v1/results?championship={GT4}&kind=qualifying").json["items"]
    assert [r["lines"][0]["position"] for r in quali] == [42, 13]


def test_session_filters(client) -> None:
    def slugs(query: str) -> list[str]:
        response = client.get(f"/api/v1/sessions?{query}")
        assert response.status_code == 200, response.json
        return [s["slug"] for s in response.json["items"]]

    assert slugs(f"championship={GT4}&kind=race") == ["race-1", "race-2"]
    assert slugs("from=2023-06-03&to=2023-06-03") == ["qualifying-1", "qualifying-2", "race-1"]
    assert slugs("upcoming=true") == []  # the 2023 season is over
    assert slugs("competitor=jessica-backman&kind=practice") == [
        "free-practice-1",
        "free-practice-2",
    ]


def test_paging_is_stable_and_links_the_next_page(client) -> None:
    seen, url = [], "/api/v1/sessions?limit=2"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.json
        assert len(page["items"]) <= 2
        seen += [(s["championship"], s["round"], s["slug"]) for s in page["items"]]
        url = page["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
    everything = client.get("/api/v1/sessions?limit=200").json["items"]
    assert seen == [(s["championship"], s["round"], s["slug"]) for s in everything]
    assert len(seen) == 6


def test_etag_and_304(client) -> None:
    first = client.get(f"/api/v1/championships/{GT4}")
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(
        f"/api/v1/championships/{GT4}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "url, status, words",
    [
        ("/api/v1/championships/nope", 404, "no championship 'nope'"),
        (f"/api/v1/championships/{GT4}/rounds/9", 404, "no round 9"),
        ("/api/v1/competitors/nope", 404, "no competitor 'nope'"),
        ("/api/v1/articles/nope", 404, "no published article 'nope'"),
        ("/api/v1/sessions?kind=parade", 400, "kind: Must be one of"),
        ("/api/v1/sessions?from=yesterday", 400, "from: Not a valid date"),
        ("/api/v1/sessions?limit=0", 400, "limit:"),
        ("/api/v1/sessions?cursor=%%%", 400, "cursor: not a cursor"),
    ],
)
def test_errors_are_problem_json(client, url: str, status: int, words: str) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == status
    assert words in response.json["detail"]


def test_openapi_document_and_its_page(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/championships/{slug}/rounds/{number}/sessions/{session_slug}" in spec["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"/api/v1/articles" in page.data
