"""Embeds over HTTP: the iframe pages (options, headers, 400s), the component script, the
Share / embed box, and oEmbed (read back as JSON, its HTML parsed with html.parser)."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest

from .conftest import new_token

GT4 = "gt4-european-series-2023"
EMBEDS = [
    f"/embed/championships/{GT4}",
    "/embed/competitors/jessica-backman",
    f"/embed/championships/{GT4}/rounds/2",
]


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data) -> None:
        self.text.append(data)

    def urls(self) -> list[str]:
        return [a[k] for _, a in self.tags for k in ("src", "href") if a.get(k)]


def _future_round(app) -> None:
    """A round a month ahead with a timed race and a qualifying, through the API."""
    client, token = app.test_client(), new_token(app)
    auth = {"Authorization": f"Bearer {token}"}
    start = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    body = {
        "number": 9,
        "circuit": "zandvoort",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=2)).isoformat(),
    }
    assert (
        client.post(f"/api/v1/championships/{GT4}/rounds", json=body, headers=auth).status_code
        == 201
    )
    for slug, kind, day, time in [
        ("qualifying", "qualifying", 1, "10:00"),
        ("race-1", "race", 2, "14:00"),
    ]:
        session = {
            "slug": slug,
            "name": slug.replace("-", " ").title(),
            "kind": kind,
            "local_date": (start + dt.timedelta(days=day)).isoformat(),
            "local_time": time,
            "duration_minutes": 60,
        }
        response = client.post(
            f"/api/v1/championships/{GT4}/rounds/9/sessions", json=session, headers=auth
        )
        assert response.status_code == 201, response.json


@pytest.mark.parametrize("path", EMBEDS)
def test_embed_pages_may_be_framed_anywhere_set_no_cookie_and_load_only_our_own(
    client, path
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "default-src 'self'" in csp
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    for url in Tags(response.get_data(as_text=True)).urls():
        # Our own static files, links to our own pages (new tab) or a webcal link: nothing
        # is loaded from elsewhere.
        assert url.startswith(("/static/", "http://localhost/", "webcal://localhost/")), url


def test_the_embed_shows_the_next_sessions_with_a_countdown_and_options(app, client) -> None:
    _future_round(app)
    page = client.get(f"/embed/championships/{GT4}")
    tags = Tags(page.get_data(as_text=True))
    times = [a["datetime"] for t, a in tags.tags if t == "time" and "data-countdown" not in a]
    assert len(times) == 2 and all(t.endswith("Z") for t in times)  # UTC instants for the script
    assert any("data-countdown" in a for t, a in tags.tags if t == "time")
    text = " ".join(tags.text)
    assert "Qualifying" in text and "Race 1" in text and "Latest results" in text
    subscribe = [
        a["href"] for t, a in tags.tags if t == "a" and "gf-button" in (a.get("class") or "")
    ]
    assert subscribe == [f"http://localhost/championships/{GT4}#subscribe-heading"]
    # Subscribe opens the site's subscribe panel there.
    assert 'id="subscribe-heading"' in client.get(f"/championships/{GT4}").get_data(as_text=True)
    only_races = Tags(
        client.get(f"/embed/championships/{GT4}?kinds=race&limit=1&theme=dark&compact=1").get_data(
            as_text=True
        )
    )
    assert ("html", {"lang": "en", "data-theme": "dark", "class": "compact"}) in only_races.tags
    shown = " ".join(only_races.text)
    assert "Race 1" in shown and "Qualifying" not in shown


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("kinds=race,picnic", "kinds"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("theme=pink", "theme"),
        ("compact=2", "compact"),
    ],
)
def test_bad_embed_options_are_400_naming_the_option(client, query, named) -> None:
    response = client.get(f"/embed/championships/{GT4}?{query}")
    assert response.status_code == 400
    assert named in response.get_data(as_text=True)


def test_unknown_embeds_are_404(client) -> None:
    assert client.get("/embed/championships/nope").status_code == 404
    assert client.get(f"/embed/championships/{GT4}/rounds/99").status_code == 404
    assert client.get("/embed/competitors/nobody").status_code == 404


def test_other_pages_are_not_opened_to_framing(client) -> None:
    response = client.get(f"/championships/{GT4}")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_component_script_is_a_cors_module(client) -> None:
    response = client.get("/embed.js", headers={"Origin": "http://elsewhere.test"})
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert 'customElements.define("gridfeed-schedule"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "page",
    [f"/championships/{GT4}", "/competitors/jessica-backman", f"/championships/{GT4}/rounds/2"],
)
def test_pages_carry_a_share_box_and_oembed_discovery(client, page) -> None:
    html = client.get(page).get_data(as_text=True)
    tags = Tags(html)
    (discovery,) = [
        a for t, a in tags.tags if t == "link" and a.get("type") == "application/json+oembed"
    ]
    oembed = client.get(discovery["href"].removeprefix("http://localhost"))
    assert oembed.status_code == 200
    body = oembed.json
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_name"] == "gridfeed" and body["width"] > 0 and body["height"] > 0
    (iframe,) = [a for t, a in Tags(body["html"]).tags if t == "iframe"]
    assert iframe["src"].startswith("http://localhost/embed/")
    assert client.get(iframe["src"].removeprefix("http://localhost")).status_code == 200
    # The box shows both snippets ready to copy, and the webcal and feed URLs.
    snippets = [a for t, a in tags.tags if t == "textarea"]
    assert {a["id"] for a in snippets} == {"share-iframe", "share-script"}
    assert body["html"] in html.replace("&#34;", '"').replace("&lt;", "<").replace("&gt;", ">")
    assert "<gridfeed-schedule" in html.replace("&lt;", "<")
    assert "webcal://localhost/" in html


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 400),
        ("url=http://localhost/championships/nope", 404),
        ("url=https://elsewhere.test/championships/" + GT4, 404),
        ("url=http://localhost/news", 404),
        (f"url=http://localhost/championships/{GT4}&format=xml", 501),
        (f"url=http://localhost/championships/{GT4}&maxwidth=wide", 400),
    ],
)
def test_oembed_refusals(client, query, status) -> None:
    assert client.get(f"/oembed?{query}").status_code == status


def test_oembed_respects_maxwidth_and_maxheight(client) -> None:
    body = client.get(
        f"/oembed?url=http://localhost/championships/{GT4}&maxwidth=300&maxheight=200"
    ).json
    assert body["width"] <= 300 and body["height"] <= 200
    (iframe,) = [a for t, a in Tags(body["html"]).tags if t == "iframe"]
    assert iframe["width"] == str(body["width"]) and "compact=1" in iframe["src"]


def test_the_component_is_under_10_kb_gzipped(client) -> None:
    import gzip

    assert len(gzip.compress(client.get("/embed.js").data, 9)) < 10 * 1024
