"""Secrets never at rest in clear: idempotency records keep no signing secret and expire; the
secret key is generated when unset, refused when known, and stored secrets can be re-sealed
under a new one."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
import standardwebhooks

from service import create_app

from .conftest import DATA_DIR, make_app, new_token

HOOK = {"url": "https://hooks.example.org/gt4", "event_types": ["session.changed"]}
APP_CONFIG = {"DNS_RESOLVER": lambda host, port: ["93.184.215.14"]}


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _dump(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        return "\n".join(conn.iterdump())


def test_an_idempotent_webhook_creation_keeps_no_secret_and_replays_without_it(
    client, token, db_path
) -> None:
    headers = _auth(token, **{"Idempotency-Key": "hook-1"})
    created = client.post("/api/v1/webhooks", json=HOOK, headers=headers)
    assert created.status_code == 201
    secret = created.json["secret"]
    assert secret.startswith("whsec_")
    standardwebhooks.Webhook(secret)  # a usable Standard Webhooks secret
    assert secret not in _dump(db_path)
    assert secret.removeprefix("whsec_") not in _dump(db_path)
    replay = client.post("/api/v1/webhooks", json=HOOK, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["id"] == created.json["id"]
    assert secret not in replay.get_data(as_text=True)
    assert "shown once" in replay.json["secret_note"]
    assert f"/api/v1/webhooks/{created.json['id']}/rotate-secret" in replay.json["secret_note"]


@pytest.fixture
def short_lived_app(db_path):
    return make_app(db_path, AUTO_SEED=False, IDEMPOTENCY_HOURS=0, **APP_CONFIG)


def test_idempotency_records_expire_and_the_worker_purges_them(short_lived_app, db_path) -> None:
    client = short_lived_app.test_client()
    token = new_token(short_lived_app)
    headers = _auth(token, **{"Idempotency-Key": "hook-2"})
    first = client.post("/api/v1/webhooks", json=HOOK, headers=headers)
    again = client.post("/api/v1/webhooks", json=HOOK, headers=headers)
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers  # expired: a new request
    assert again.json["id"] != first.json["id"]
    with short_lived_app.app_context():  # as `flask worker` runs it
        result = short_lived_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select count(*) from idempotency_records").fetchone() == (0,)


# -- the secret key ----------------------------------------------------------------------------


def _bare_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DATA_DIR": str(DATA_DIR),
            **config,
        },
        instance_path=str(tmp_path / "instance"),
    )


def test_a_secret_key_is_generated_into_the_instance_folder_once(tmp_path, monkeypatch) -> None:
    first = _bare_app(tmp_path, monkeypatch)
    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (
        len(first.config["SECRET_KEY"]) >= 43 and first.config["SECRET_KEY"] in key_file.read_text()
    )
    second = _bare_app(tmp_path, monkeypatch)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


@pytest.mark.parametrize("key", ["", "dev-only-not-secret", "changeme"])
def test_a_known_or_empty_secret_key_is_refused(tmp_path, monkeypatch, key) -> None:
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DATA_DIR": str(DATA_DIR)},
            instance_path=str(tmp_path / "instance"),
        )


def test_keys_rotate_reseals_stored_secrets_under_the_new_key(db_path) -> None:
    old = make_app(db_path, AUTO_SEED=False, SECRET_KEY="old-" + "k" * 40, **APP_CONFIG)
    token = new_token(old)
    created = old.test_client().post("/api/v1/webhooks", json=HOOK, headers=_auth(token))
    secret = created.json["secret"]
    with sqlite3.connect(db_path) as conn:
        (sealed_before,) = conn.execute(
            "select secret_encrypted from webhook_subscriptions"
        ).fetchone()
    # The operator sets the new key and keeps the old one as a fallback while rotating.
    rotating = make_app(
        db_path,
        AUTO_SEED=False,
        SECRET_KEY="new-" + "k" * 40,
        SECRET_KEY_FALLBACKS=["old-" + "k" * 40],
        **APP_CONFIG,
    )
    result = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-sealed 1 " in result.output
    with sqlite3.connect(db_path) as conn:
        (sealed_after,) = conn.execute(
            "select secret_encrypted from webhook_subscriptions"
        ).fetchone()
    assert sealed_after != sealed_before and secret not in sealed_after
    # Only the new key is needed from now on: a delivery is signed with the same secret.
    new_only = make_app(db_path, AUTO_SEED=False, SECRET_KEY="new-" + "k" * 40, **APP_CONFIG)
    from service.notify.signing import unseal

    assert unseal(new_only.config, sealed_after) == secret


def test_keys_rotate_reseals_a_websub_secret_waiting_for_verification(db_path) -> None:
    import json

    from service.notify.signing import unseal

    old_key, new_key = "old-" + "w" * 40, "new-" + "w" * 40
    common = {**APP_CONFIG, "RUN_WORKER_IN_PROCESS": "0", "WEBSUB_ACCEPT_SECRET_OVER_HTTP": True}
    old = make_app(db_path, AUTO_SEED=False, SECRET_KEY=old_key, **common)
    accepted = old.test_client().post(
        "/websub",
        data={
            "hub.mode": "subscribe",
            "hub.topic": "http://localhost/news.atom",
            "hub.callback": "https://cb.example.org/hook",
            "hub.secret": "the-subscriber-secret",
        },
    )
    assert accepted.status_code == 202, accepted.data
    assert "the-subscriber-secret" not in _dump(db_path)
    rotating = make_app(
        db_path, AUTO_SEED=False, SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key], **common
    )
    result = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "re-sealed 1 " in result.output, result.output
    with sqlite3.connect(db_path) as conn:
        (payload,) = conn.execute("select payload from deliveries").fetchone()
    new_only = make_app(db_path, AUTO_SEED=False, SECRET_KEY=new_key, **common)
    assert unseal(new_only.config, json.loads(payload)["secret_sealed"]) == "the-subscriber-secret"
    with pytest.raises(ValueError, match="SECRET_KEY"):
        unseal(old.config, json.loads(payload)["secret_sealed"])
