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
        # How often a web process re-reads the data version (seconds); 0 reads it every request.
        "FEED_VERSION_RECHECK_SECONDS": float(
            os.environ.get("GRIDFEED_FEED_VERSION_RECHECK_SECONDS", "1")
        ),
        # Where feeds advertise their WebSub hub; empty = this app's own /websub.
        "WEBSUB_HUB_URL": os.environ.get("GRIDFEED_WEBSUB_HUB_URL", ""),
        # -- publishing (feeds rendered on write, served as stored bytes) --
        # Publish in this process at start and right after each of its writes: "auto" does so
        # on SQLite (the embedded default); PostgreSQL deployments run `flask publish` in the
        # release step and `flask worker` processes publish after writes.
        "PUBLISH_IN_PROCESS": os.environ.get("GRIDFEED_PUBLISH_IN_PROCESS", "auto"),
        # Where published feeds are also written as files (+ .gz) for a front; "" = no files.
        "PUBLISH_DIR": os.environ.get(
            "GRIDFEED_PUBLISH_DIR", str(Path(instance_path) / "published")
        ),
        # With a front that serves those files (nginx internal location), answer feed 200s
        # with X-Accel-Redirect to <prefix><file> instead of the body; "" = off.
        "ACCEL_REDIRECT_PREFIX": os.environ.get("GRIDFEED_ACCEL_REDIRECT_PREFIX", ""),
        # Cache-Control extensions for a CDN in front of the feeds (seconds).
        "CDN_STALE_WHILE_REVALIDATE": int(
            os.environ.get("GRIDFEED_CDN_STALE_WHILE_REVALIDATE", "300")
        ),
        "CDN_STALE_IF_ERROR": int(os.environ.get("GRIDFEED_CDN_STALE_IF_ERROR", "86400")),
        # -- notifications (webhooks, WebSub, reminders) --
        # Deliver from a thread of the web process: "auto" does so on SQLite (the one-command
        # embedded default) and leaves PostgreSQL deployments to `flask worker` processes.
        "RUN_WORKER_IN_PROCESS": os.environ.get("GRIDFEED_RUN_WORKER_IN_PROCESS", "auto"),
        "WORKER_THREADS": int(os.environ.get("GRIDFEED_WORKER_THREADS", "8")),
        "WORKER_POLL_SECONDS": float(os.environ.get("GRIDFEED_WORKER_POLL_SECONDS", "1")),
        # How often the worker plans reminders and expires WebSub leases (seconds).
        "WORKER_PLAN_SECONDS": float(os.environ.get("GRIDFEED_WORKER_PLAN_SECONDS", "10")),
        # A claimed delivery not finished within the lease is claimed again (the worker died).
        # Must exceed the connect and read timeouts.
        "WORKER_LEASE_SECONDS": int(os.environ.get("GRIDFEED_WORKER_LEASE_SECONDS", "120")),
        "DELIVERY_CONNECT_TIMEOUT": float(os.environ.get("GRIDFEED_DELIVERY_CONNECT_TIMEOUT", "5")),
        "DELIVERY_READ_TIMEOUT": float(os.environ.get("GRIDFEED_DELIVERY_READ_TIMEOUT", "15")),
        "DELIVERY_MAX_RESPONSE_BYTES": 64 * 1024,
        # Seconds to wait before each retry; about 27.5 hours in all, then the message is given
        # up and a subscription that has not succeeded since is disabled.
        "DELIVERY_RETRY_SCHEDULE": [5, 300, 1800, 7200, 18000, 36000, 36000],
        # Development and tests only: allow webhook and WebSub targets on 127.0.0.0/8 and ::1.
        "ALLOW_LOOPBACK_TARGETS": _env_bool("GRIDFEED_ALLOW_LOOPBACK_TARGETS", False),
        # Tests only: a callable resolving a host name to addresses, instead of the system's.
        "DNS_RESOLVER": None,
        "WEBSUB_LEASE_SECONDS": (3600, 10 * 86400, 30 * 86400),  # minimum, default, maximum
        # WebSub says a hub MUST ignore hub.secret on a subscription not made over HTTPS.
        "WEBSUB_ACCEPT_SECRET_OVER_HTTP": _env_bool("GRIDFEED_WEBSUB_SECRET_OVER_HTTP", False),
        "REMINDER_DEFAULT_MINUTES": 30,
        # Finished deliveries (and their attempt logs) are kept this long, then forgotten.
        "DELIVERY_LOG_DAYS": int(os.environ.get("GRIDFEED_DELIVERY_LOG_DAYS", "30")),
        # Proxies in front of the app whose X-Forwarded-Proto/Host to trust (for HTTPS checks).
        "TRUSTED_PROXY_HOPS": int(os.environ.get("GRIDFEED_TRUSTED_PROXY_HOPS", "0")),
    }


def parse_bool(raw: str) -> bool:
    """The one spelling of a yes/no setting: 1, true, yes or on (any case) mean yes."""
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else parse_bool(raw)
