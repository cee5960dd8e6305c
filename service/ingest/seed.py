"""First-start seeding: import the data folder once, into an empty store."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from ..store.data_version import DataState
from ..store.engine import get_store
from .importer import import_paths


def seed_once(app: Flask) -> None:
    """Import ``DATA_DIR`` through the write path unless this store was seeded before."""
    store = get_store(app)
    with store.sessions() as session:
        state = session.get(DataState, 1)
        if state is not None and state.seeded:
            return
    data_dir = Path(app.config["DATA_DIR"])
    if not data_dir.is_dir():
        app.logger.warning("seed directory %s does not exist; starting empty", data_dir)
        return
    import_paths(app, [data_dir], actor="seed", mark_seeded=True)
