"""The home page and the health check, through HTTP."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alternates: list[dict[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "link" and attributes.get("rel") == "alternate":
            self.alternates.append(attributes)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_home_lists_championships_rounds_competitors_and_feeds(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = _parse(response.get_data(as_text=True))
    text = " ".join(" ".join(page.text).split())
    for expected in (
        "GT4 European Series 2023",
        "ADAC GT4 Germany 2023",
        "Circuit Paul Ricard",
        "Spa-Francorchamps",
        "Circuit Zandvoort",
        "Andreas Bäckman",
        "Jessica Bäckman",
        "29 September – 1 October 2023",
    ):
        assert expected in text
    hrefs = response.get_data(as_text=True)
    for path in (
        "/calendar.ics",
        "/championships/gt4-european-series-2023/calendar.ics",
        "/competitors/jessica-backman/news.atom",
        "/news.json",
    ):
        assert f'href="{path}"' in hrefs
    assert {a["href"] for a in page.alternates} == {
        "/calendar.ics",
        "/news.rss",
        "/news.atom",
        "/news.json",
    }


def test_home_escapes_data(app, client) -> None:
    from service.writes import write

    with write(app, actor="test") as w:
        w.upsert_championship(
            "xss-cup-2024", {"name": "<script>alert(1)</script> Cup", "series": "X", "season": 2024}
        )
    body = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Cup" in body


def test_healthz_reports_data_version_and_publication(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    text = response.data.decode().strip()
    assert re.fullmatch(r"ok data_version=1 published=[1-9][0-9]*", text), text


def test_unknown_page_is_a_404_page(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"404" in response.data and b"Traceback" not in response.data


def test_round_page_shows_sessions_tbc_and_results(client) -> None:
    response = client.get("/championships/gt4-european-series-2023/rounds/2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = _parse(html)
    text = " ".join(" ".join(page.text).split())
    assert "Round 2: Circuit Paul Ricard" in text
    assert "Sat 3 June, time TBC (morning)" in text
    assert "Sat 3 June, time TBC (afternoon)" in text
    assert "date and time TBC" in text  # the practice sessions and race 2: no day stated
    assert "57 cars" in text
    assert "Retired on lap 1 after an incident damaged the front of the car." in text
    assert "DNS (did not start)" in text
    assert {a["href"] for a in page.alternates} >= {
        "/championships/gt4-european-series-2023/calendar.ics",
        "/championships/gt4-european-series-2023/news.atom",
    }


def test_championship_and_competitor_pages(client) -> None:
    championship = client.get("/championships/gt4-european-series-2023")
    assert championship.status_code == 200
    text = " ".join(" ".join(_parse(championship.get_data(as_text=True)).text).split())
    assert "29 September – 1 October 2023" in text and "Aston Martin Vantage GT4" in text
    competitor = client.get("/competitors/andreas-backman")
    page = _parse(competitor.get_data(as_text=True))
    text = " ".join(" ".join(page.text).split())
    assert "ADAC GT4 Germany 2023" in text and "GT4 European Series 2023" in text
    assert "Aston Martin Vantage GT4 with racing one; shared with Jessica Bäckman." in text
    assert "Car not published, team not published; shared with Jessica Bäckman." in text
    assert "13th" in text  # his qualifying 2
    assert {a["href"] for a in page.alternates} >= {
        "/competitors/andreas-backman/calendar.ics",
        "/competitors/andreas-backman/news.rss",
    }


def test_article_page(client) -> None:
    response = client.get("/news/tough-weekend-for-the-backman-siblings-in-france")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Tough weekend for the Bäckman siblings in France</h1>" in html
    assert "<h2>Andreas and Jessica’s results</h2>" in html
    assert 'href="https://www.mynewsdesk.com/se/ja-backman/images"' in html


def test_unknown_pages_are_404s(client) -> None:
    for url in (
        "/championships/nope",
        "/championships/gt4-european-series-2023/rounds/9",
        "/competitors/nope",
        "/news/nope",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Traceback" not in response.data


# -- the fan's website (issue 15) -------------------------------------------------------------

GT4 = "gt4-european-series-2023"
PAGE_KINDS = (
    "/",
    f"/championships/{GT4}",
    f"/championships/{GT4}/rounds/2",
    "/competitors/jessica-backman",
    "/news",
    "/news/tough-weekend-for-the-backman-siblings-in-france",
    "/api/v1/docs",
)


class _Head(HTMLParser):
    """Counts h1s and collects meta tags, link rels, scripts and inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.inline_scripts = 0
        self.style_attributes = 0
        self.skip_link = False
        self.in_h1 = False
        self.h1_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.style_attributes += "style" in a
        if tag == "h1":
            self.h1 += 1
            self.in_h1 = True
        elif tag == "meta" and ("name" in a or "property" in a):
            self.meta[a.get("name") or a["property"]] = a.get("content", "")
        elif tag == "link":
            self.links.setdefault(a.get("rel", ""), a.get("href", ""))
        elif tag == "script" and "src" not in a:
            self.inline_scripts += 1
        elif tag == "a" and a.get("class") == "skip-link" and a.get("href") == "#content":
            self.skip_link = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self.in_h1 = False

    def handle_data(self, data: str) -> None:
        if self.in_h1:
            self.h1_text += data


def _head(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def test_every_page_kind_has_one_h1_meta_tags_and_no_inline_code(app) -> None:
    client = make_app_with_base(app)
    for path in PAGE_KINDS:
        response = client.get(path)
        assert response.status_code == 200, path
        head = _head(response.get_data(as_text=True))
        assert head.h1 == 1, path
        assert head.meta["description"], path
        assert head.links["canonical"] == f"https://fans.example.org{path}", path
        assert head.meta["og:url"] == head.links["canonical"], path
        assert head.meta["og:title"] and head.meta["og:description"], path
        assert head.meta["og:image"].startswith("https://fans.example.org/static/img/"), path
        assert head.meta["twitter:card"] == "summary_large_image", path
        assert head.links["icon"].endswith("favicon.svg"), path
        assert head.skip_link, path
        # Issue 13's Content-Security-Policy allows no inline script or style attribute.
        assert head.inline_scripts == 0 and head.style_attributes == 0, path
        image = urlsplit(head.meta["og:image"]).path
        assert client.get(image).status_code == 200, image


def make_app_with_base(app):
    app.config["PUBLIC_BASE_URL"] = "https://fans.example.org"
    return app.test_client()


def test_static_assets_and_favicon_are_served(client) -> None:
    for path, media in (
        ("/favicon.ico", "image/vnd.microsoft.icon"),
        ("/static/favicon.svg", "image/svg+xml"),
        ("/static/logo.svg", "image/svg+xml"),
        ("/static/style.css", "text/css"),
        ("/static/local-time.js", "text/javascript"),
        ("/static/subscribe.js", "text/javascript"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype in (media, "image/x-icon", "application/javascript"), path


def test_news_index_lists_articles_newest_first_and_pages(client) -> None:
    response = client.get("/news")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'href="/news/tough-weekend-for-the-backman-siblings-in-france"' in html
    assert "5 June 2023" in html
    assert client.get("/news?page=2").status_code == 404
    for bad in ("0", "x", "-1"):
        bad_response = client.get(f"/news?page={bad}")
        assert bad_response.status_code == 400
        assert "page:" in bad_response.get_data(as_text=True)


def test_news_index_pages_twenty_at_a_time(app, client, token) -> None:
    for n in range(21):
        response = client.post(
            "/api/v1/articles",
            json={
                "slug": f"note-{n:02d}",
                "title": f"Note {n:02d}",
                "body_markdown": "Text.",
                "published_at": f"2024-01-{n + 1:02d}T12:00:00Z",
                "championships": [GT4],
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.json
    first = client.get("/news").get_data(as_text=True)
    assert first.index("Note 20") < first.index("Note 19")
    assert "Note 01" in first and "Note 00" not in first and 'rel="next"' in first
    second = client.get("/news?page=2").get_data(as_text=True)
    assert "Note 00" in second and "Tough weekend" in second and 'rel="prev"' in second
    assert _head(second).links["canonical"] == "http://localhost/news?page=2"
    assert _head(first).links["canonical"] == "http://localhost/news"


def test_latest_news_on_championship_and_competitor_pages(client) -> None:
    for path in (f"/championships/{GT4}", "/competitors/jessica-backman", "/"):
        html = client.get(path).get_data(as_text=True)
        assert 'href="/news/tough-weekend-for-the-backman-siblings-in-france"' in html, path


def test_article_about_names_not_slugs(client) -> None:
    html = client.get("/news/tough-weekend-for-the-backman-siblings-in-france").get_data(
        as_text=True
    )
    about = html[html.index('class="about"') :]
    about = about[: about.index("</p>")]
    assert ">GT4 European Series 2023</a>" in about
    assert ">Jessica Bäckman</a>" in about and ">Andreas Bäckman</a>" in about
    assert ">gt4-european-series-2023<" not in about and ">jessica-backman<" not in about


def test_past_round_with_results_says_completed(client) -> None:
    text = " ".join(
        " ".join(_parse(client.get(f"/championships/{GT4}").get_data(as_text=True)).text).split()
    )
    assert "Round 2: Circuit Paul Ricard 2 – 4 June 2023 Circuit Paul Ricard" in text
    row = text[text.index("Round 2: Circuit Paul Ricard") :]
    assert row.split("Round 3")[0].rstrip().endswith("completed")
    assert "scheduled" not in row.split("Round 3")[0]


def test_server_side_zone_fallback(app, client, token) -> None:
    path = f"/api/v1/championships/{GT4}/rounds/2/sessions/race-2"
    etag = client.get(path).headers["ETag"]
    response = client.patch(
        path,
        json={"local_date": "2023-06-04", "local_time": "11:30"},
        headers={"Authorization": f"Bearer {token}", "If-Match": etag},
    )
    assert response.status_code == 200, response.json
    page = f"/championships/{GT4}/rounds/2"
    assert '<time datetime="2023-06-04T09:30:00Z">Sun 4 June 09:30 UTC</time>' in client.get(
        page
    ).get_data(as_text=True)
    html = client.get(page + "?tz=America/New_York").get_data(as_text=True)
    assert '<time datetime="2023-06-04T09:30:00Z">Sun 4 June 05:30 EDT</time>' in html
    assert '<time datetime="2023-06-04T11:30+02:00">Sun 4 June 11:30 CEST</time>' in html
    assert '<option value="America/New_York" selected>' in html
    bad = client.get(page + "?tz=Nowhere/Land")
    assert bad.status_code == 400 and "tz:" in bad.get_data(as_text=True)


def test_api_docs_list_parameters_bodies_and_examples(client) -> None:
    html = client.get("/api/v1/docs").get_data(as_text=True)
    section = html[html.index('id="get-api-v1-sessions"') :]
    section = section[: section.index("</section>")]
    for parameter in ("limit", "cursor", "championship", "competitor", "kind", "from", "to"):
        assert f"<code>{parameter}</code>" in section, parameter
    assert "Example response (200)" in section and "&#34;start_utc&#34;" in section
    post = html[html.index('id="post-api-v1-championships"') :]
    post = post[: post.index("</section>")]
    assert "Request body (JSON)" in post and "<code>slug</code>" in post
    assert "Example request body" in post
    # Markdown in the document is rendered, not shown raw.
    assert "`calendar`" not in html and "<code>calendar</code>" in html
