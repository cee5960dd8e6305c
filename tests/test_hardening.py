"""Smaller findings of the trust review: the RSS description, the outbound URL filter,
If-Match, unpublished articles for editors, unknown championships in tokens, body limits."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

import pytest

from service.notify.outbound_http import UnsafeTarget, check_url

from .conftest import new_token

GT4 = "gt4-european-series-2023"
ARTICLE = "tough-weekend-for-the-backman-siblings-in-france"


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


# -- RSS description ----------------------------------------------------------------------------


def test_rss_description_carries_the_summary_as_text_never_as_markup(client, token) -> None:
    summary = '<img src=x onerror="alert(1)"> Tom & Jerry <b>win</b>'
    created = client.post(
        "/api/v1/articles",
        json={
            "slug": "xss-summary",
            "title": "Summary test",
            "summary": summary,
            "body_markdown": "Body.",
            "championships": [GT4],
        },
        headers=_auth(token),
    )
    assert created.status_code == 201, created.json
    rss = ET.fromstring(client.get("/news.rss").data)
    item = next(i for i in rss.iter("item") if i.findtext("title") == "Summary test")
    description = item.findtext("description")
    # The element's text, as a reader treats it: HTML. It must hold no tag at all.
    assert "<" not in description and ">" not in description
    assert html.unescape(description) == summary


# -- outbound URL filter --------------------------------------------------------------------------


def _literal(host: str, port: int) -> list[str]:
    return [host.strip("[]")]


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
        "http://[2002:a9fe:a9fe::]/",  # 6to4 around 169.254.169.254
        "http://[2002:0a00:0001::]/",  # 6to4 around 10.0.0.1
        "http://[64:ff9b::7f00:1]/",  # NAT64 around 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 around 169.254.169.254
        "http://[::7f00:1]/",  # IPv4-compatible 127.0.0.1
        "http://[::a9fe:a9fe]/",  # IPv4-compatible 169.254.169.254
        # Teredo: server 65.54.227.120, client 127.0.0.1 (stored inverted: 80ff:fffe)
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        "http://93.184.215.14:0/",
        "http://93.184.215.14:65536/",
        "http://93.184.215.14:99999/",
    ],
)
def test_outbound_filter_refuses_wrapped_internal_addresses_and_bad_ports(url) -> None:
    with pytest.raises(UnsafeTarget):
        check_url(url, allow_loopback=False, resolve=_literal)


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:5db8:d70e::]/",  # 6to4 around 93.184.215.14, public
        "http://[64:ff9b::5db8:d70e]:8443/",  # NAT64 around a public address
        "https://93.184.215.14:1/",
        "https://93.184.215.14:65535/",
    ],
)
def test_outbound_filter_still_accepts_public_targets(url) -> None:
    check_url(url, allow_loopback=False, resolve=_literal)


# -- If-Match, unpublished articles, tokens, limits ----------------------------------------------


def test_if_match_star_is_refused_with_a_sentence(client, token, db_path) -> None:
    response = client.patch(
        f"/api/v1/championships/{GT4}",
        json={"name": "Overwritten"},
        headers=_auth(token, **{"If-Match": "*"}),
    )
    assert response.status_code == 428, response.json
    assert "ETag" in response.json["detail"] and "*" in response.json["detail"]
    assert client.get(f"/api/v1/championships/{GT4}").json["name"] != "Overwritten"


def test_an_unpublished_article_can_be_read_with_an_articles_token(client, token, app) -> None:
    etag = client.get(f"/api/v1/articles/{ARTICLE}").headers["ETag"]
    unpublished = client.patch(
        f"/api/v1/articles/{ARTICLE}",
        json={"status": "unpublished"},
        headers=_auth(token, **{"If-Match": etag}),
    )
    assert unpublished.status_code == 200
    assert client.get(f"/api/v1/articles/{ARTICLE}").status_code == 404
    seen = client.get(f"/api/v1/articles/{ARTICLE}", headers=_auth(token))
    assert seen.status_code == 200 and seen.json["status"] == "unpublished"
    republished = client.patch(
        f"/api/v1/articles/{ARTICLE}",
        json={"status": "published"},
        headers=_auth(token, **{"If-Match": seen.headers["ETag"]}),
    )
    assert republished.status_code == 200, republished.json
    calendar_only = new_token(app, "--permission", "calendar", name="calendar-only")
    client.patch(
        f"/api/v1/articles/{ARTICLE}",
        json={"status": "unpublished"},
        headers=_auth(token, **{"If-Match": republished.headers["ETag"]}),
    )
    assert (
        client.get(f"/api/v1/articles/{ARTICLE}", headers=_auth(calendar_only)).status_code == 404
    )


def test_tokens_create_refuses_an_unknown_championship(runner) -> None:
    result = runner.invoke(args=["tokens", "create", "x", "--championship", "no-such-championship"])
    assert result.exit_code != 0
    assert "no-such-championship" in result.output
    listed = runner.invoke(args=["tokens", "list"])
    assert "\tx\t" not in listed.output


def test_article_bodies_have_one_limit_on_create_and_update(client, token) -> None:
    from service.domain.choices import TEXT_MAX_LENGTH

    too_long = "x" * (TEXT_MAX_LENGTH + 1)
    article = {"slug": "long", "title": "Long", "body_markdown": too_long, "championships": [GT4]}
    created = client.post("/api/v1/articles", json=article, headers=_auth(token))
    assert created.status_code == 422 and "body_markdown" in created.json["detail"]
    fits = client.post(
        "/api/v1/articles",
        json={**article, "body_markdown": "x" * TEXT_MAX_LENGTH},
        headers=_auth(token),
    )
    assert fits.status_code == 201, fits.json
    updated = client.patch(
        "/api/v1/articles/long",
        json={"body_markdown": too_long},
        headers=_auth(token, **{"If-Match": fits.headers["ETag"]}),
    )
    assert updated.status_code == 422 and "body_markdown" in updated.json["detail"]
