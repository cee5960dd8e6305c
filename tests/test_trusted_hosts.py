"""Trusted hosts: the Host header never writes the links. Links come from
GRIDFEED_PUBLIC_BASE_URL when set; otherwise only trusted hosts are answered (localhost and
127.0.0.1 on the embedded default), and a production start with neither is refused."""

from __future__ import annotations

import pytest

from service.config import ConfigurationError

from .conftest import DATA_DIR, TEST_SECRET_KEY, make_app

EVIL = "evil.example"
FEED_PATHS = ("/news.rss", "/calendar.ics", "/", "/api/v1/championships")


def test_the_embedded_default_answers_only_localhost(client) -> None:
    for path in FEED_PATHS:
        refused = client.get(path, headers={"Host": EVIL})
        assert refused.status_code == 400, path
        assert EVIL not in refused.get_data(as_text=True)
        assert EVIL not in str(refused.headers)
    for host in ("localhost", "127.0.0.1:5000"):
        answered = client.get("/news.rss", headers={"Host": host})
        assert answered.status_code == 200
        assert f"http://{host}/" in answered.get_data(as_text=True)


def test_with_a_public_base_url_links_never_come_from_the_host_header(db_path) -> None:
    app = make_app(db_path, AUTO_SEED=False, PUBLIC_BASE_URL="https://feeds.example.org")
    client = app.test_client()
    for path in FEED_PATHS:
        response = client.get(path, headers={"Host": EVIL})
        assert response.status_code == 200, path
        assert EVIL not in response.get_data(as_text=True), path
        assert EVIL not in str(response.headers), path
    assert "https://feeds.example.org/" in client.get("/news.rss").get_data(as_text=True)


def test_trusted_hosts_setting_names_the_hosts_answered(db_path, monkeypatch) -> None:
    monkeypatch.setenv("GRIDFEED_TRUSTED_HOSTS", "feeds.example.org, .example.net")
    app = make_app(db_path, AUTO_SEED=False)
    client = app.test_client()
    assert client.get("/news.rss", headers={"Host": "feeds.example.org"}).status_code == 200
    assert client.get("/news.rss", headers={"Host": "www.example.net"}).status_code == 200
    assert client.get("/news.rss", headers={"Host": "localhost"}).status_code == 400
    assert client.get("/news.rss", headers={"Host": EVIL}).status_code == 400


def test_a_production_start_without_base_url_or_trusted_hosts_is_refused(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("GRIDFEED_TRUSTED_HOSTS", raising=False)
    monkeypatch.delenv("GRIDFEED_PUBLIC_BASE_URL", raising=False)
    from service import create_app

    with pytest.raises(ConfigurationError) as refused:
        create_app(
            {
                "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                "DATA_DIR": str(DATA_DIR),
                "SECRET_KEY": TEST_SECRET_KEY,
            },
            instance_path=str(tmp_path),
        )
    assert "GRIDFEED_PUBLIC_BASE_URL" in str(refused.value)
    assert "GRIDFEED_TRUSTED_HOSTS" in str(refused.value)
