"""Security headers: a strict Content-Security-Policy on every HTML page and error page
(framing refused except on views that opt out), nosniff and a Referrer-Policy everywhere."""

from __future__ import annotations

import pytest

from .conftest import make_app

GT4 = "gt4-european-series-2023"
PAGES = [
    "/",
    f"/championships/{GT4}",
    f"/championships/{GT4}/rounds/2",
    "/competitors/jessica-backman",
    "/news/tough-weekend-for-the-backman-siblings-in-france",
    "/api/v1/docs",
    "/no-such-page",  # the HTML error page
    f"/championships/{GT4}/rounds/99",
]
FEEDS = [
    "/calendar.ics",
    f"/championships/{GT4}/calendar.ics",
    "/news.rss",
    "/news.atom",
    "/news.json",
    "/api/v1/championships",
    "/api/v1/openapi.json",
    "/championships/nope/news.rss",  # a plain-text error
]


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy", "")
    directives = [d.split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("path", PAGES)
def test_every_html_page_and_error_page_has_a_strict_policy(client, path) -> None:
    response = client.get(path)
    assert response.mimetype == "text/html"
    policy = csp(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    scripts = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "'unsafe-inline'" not in policy.get("style-src", [])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_and_api_answers_are_not_sniffed(client, path) -> None:
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_a_view_meant_to_be_embedded_opts_out_of_frame_ancestors_none(db_path) -> None:
    from service.web.security import embeddable

    app = make_app(db_path, AUTO_SEED=False)

    @embeddable
    def widget() -> str:
        return "<!doctype html><title>w</title><p>embedded"

    app.add_url_rule("/embed/test-widget", "test_widget", widget)
    response = app.test_client().get("/embed/test-widget")
    policy = csp(response)
    assert policy["frame-ancestors"] == ["*"]
    assert policy["default-src"] == ["'self'"]  # the rest of the policy stays
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert csp(app.test_client().get("/"))["frame-ancestors"] == ["'none'"]
