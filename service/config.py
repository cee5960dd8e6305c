"""Configuration: defaults, then the environment, then the instance config or a test mapping."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_config(instance_path: str) -> dict[str, Any]:
    """The defaults for one deployment, overridable from the environment."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-not-secret"),
        # The embedded default is a SQLite file in the instance folder.
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"sqlite:///{Path(instance_path) / 'gridfeed.sqlite3'}"
        ),
        "DATA_DIR": os.environ.get("GRIDFEED_DATA_DIR", str(PROJECT_ROOT / "data")),
        # Apply migrations and seed from DATA_DIR when the app starts on an empty database.
        # Production sets these off and runs `flask db upgrade` in the release phase instead.
        "AUTO_MIGRATE": _env_bool("GRIDFEED_AUTO_MIGRATE", True),
        "AUTO_SEED": _env_bool("GRIDFEED_AUTO_SEED", True),
        # The domain in feed UIDs and tag: URIs. Changing it renames every UID: set it once.
        "FEED_DOMAIN": os.environ.get("GRIDFEED_DOMAIN", "gridfeed.example"),
        # Absolute base URL used in feeds when there is no request (worker); empty = from request.
        "PUBLIC_BASE_URL": os.environ.get("GRIDFEED_PUBLIC_BASE_URL", ""),
        "MAX_CONTENT_LENGTH": int(os.environ.get("GRIDFEED_MAX_BODY_BYTES", str(1024 * 1024))),
        "FEED_REFRESH_MINUTES": int(os.environ.get("GRIDFEED_REFRESH_MINUTES", "60")),
    }


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}
