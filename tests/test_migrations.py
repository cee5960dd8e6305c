"""Alembic migrations: they build the schema the models describe, and the CLI applies them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect

from service.store.base import Base
from service.store.migrate import alembic_config, upgrade


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    # Raises if autogenerate finds any difference between the models and the migrated schema.
    command.check(alembic_config(engine))
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)


def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "sessions" in inspect(engine).get_table_names()


def test_db_upgrade_command(tmp_path: Path) -> None:
    from .conftest import make_app

    app = make_app(tmp_path / "cli.sqlite3", AUTO_MIGRATE=False, AUTO_SEED=False)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = create_engine(app.config["DATABASE_URL"])
    assert "championships" in inspect(engine).get_table_names()
