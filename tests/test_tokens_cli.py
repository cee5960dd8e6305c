"""``flask tokens create/list/revoke``: secrets shown once, stored only as hashes."""

from __future__ import annotations

import sqlite3

import pytest
from flask import Flask

from service.api.tokens import AuthError, verify
from service.store.engine import get_store


def _create(runner, *args: str) -> str:
    result = runner.invoke(args=["tokens", "create", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_create_list_revoke(app: Flask, runner, db_path) -> None:
    token = _create(
        runner,
        "press office",
        "--championship",
        "gt4-european-series-2023",
        "--permission",
        "articles",
    )
    assert token.startswith("gf_")
    public_id = token.removeprefix("gf_").split("_")[0]
    secret = token.removeprefix(f"gf_{public_id}_")

    listing = runner.invoke(args=["tokens", "list"]).output
    assert public_id in listing and "press office" in listing
    assert "articles" in listing and "gt4-european-series-2023" in listing
    assert secret not in listing

    # Only a hash is at rest: the secret appears nowhere in the database file's rows.
    rows = sqlite3.connect(db_path).execute("SELECT * FROM api_tokens").fetchall()
    assert rows and secret not in repr(rows)

    with get_store(app).sessions() as session:
        principal = verify(session, token)
    assert principal.allows("articles", "gt4-european-series-2023")
    assert not principal.allows("articles", "adac-gt4-germany-2023")
    assert not principal.allows("calendar", "gt4-european-series-2023")

    assert runner.invoke(args=["tokens", "revoke", public_id]).exit_code == 0
    with get_store(app).sessions() as session, pytest.raises(AuthError) as revoked:
        verify(session, token)
    assert revoked.value.status == 401 and "revoked" in revoked.value.reason


def test_wrong_secret_and_garbage_are_rejected(app: Flask, runner) -> None:
    token = _create(runner, "all")
    with get_store(app).sessions() as session:
        for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "gf_nope_nope", "hello"):
            with pytest.raises(AuthError) as err:
                verify(session, bad)
            assert err.value.status == 401


def test_revoking_an_unknown_token_fails_clearly(runner) -> None:
    result = runner.invoke(args=["tokens", "revoke", "doesnotexist"])
    assert result.exit_code != 0
    assert "no token with id 'doesnotexist'" in result.output
