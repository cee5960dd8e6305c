"""Shared fixtures: an app on a fresh temporary SQLite file, its client and CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from service import create_app

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"


def make_app(db_path: Path, **overrides: Any) -> Flask:
    """An app on the SQLite file ``db_path`` (created, migrated and seeded as configured)."""
    config: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "DATA_DIR": str(DATA_DIR),
        "FEED_DOMAIN": "gridfeed.test",
        "PUBLISH_DIR": str(db_path.parent / "published"),
    }
    config.update(overrides)
    return create_app(config)


def new_token(app: Flask, *options: str, name: str = "test-token") -> str:
    """A bearer token made with the CLI; every championship and permission unless options
    (``--championship``, ``--permission``) say otherwise."""
    result = app.test_cli_runner().invoke(args=["tokens", "create", name, *options])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database seeded from data/, built once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite3"
    make_app(path)
    return path


@pytest.fixture
def db_path(tmp_path: Path, seeded_template: Path) -> Path:
    """A private copy of the seeded database for one test."""
    path = tmp_path / "gridfeed.sqlite3"
    shutil.copy(seeded_template, path)
    return path


@pytest.fixture
def app(db_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app on a fresh copy of the seeded database, with the test module's ``APP_CONFIG``."""
    yield make_app(db_path, AUTO_SEED=False, **getattr(request.module, "APP_CONFIG", {}))


@pytest.fixture
def token(app: Flask) -> str:
    """A bearer token for every championship with every permission."""
    return new_token(app)


@pytest.fixture
def empty_app(tmp_path: Path) -> Flask:
    """An app on a migrated but empty database."""
    return make_app(tmp_path / "empty.sqlite3", AUTO_SEED=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
