"""Configuration: defaults, then the environment, then the instance config or a test mapping."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_config(instance_path: str) -> dict[str, Any]:
    """The defaults for one deployment, overridable from the environment."""
    return {
        # Seals stored signing secrets and signs cursors. Unset: generated once into the
        # instance folder (see ``resolve_secret_key``); a known or empty value is refused.
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        # Older keys that still open sealed secrets while `flask keys rotate` re-seals them.
        "SECRET_KEY_FALLBACKS": _env_list("SECRET_KEY_FALLBACKS"),
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
        # Absolute base URL of every link; empty = from the request's (trusted) host.
        "PUBLIC_BASE_URL": os.environ.get("GRIDFEED_PUBLIC_BASE_URL", ""),
        # Host names answered (Flask's TRUSTED_HOSTS; ".example.org" = it and subdomains).
        # Unset: localhost and 127.0.0.1 on the embedded default, any host when
        # PUBLIC_BASE_URL is set; see ``resolve_trusted_hosts``.
        "TRUSTED_HOSTS": _env_list("GRIDFEED_TRUSTED_HOSTS") or None,
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
        # How long a write's response waits for the in-process publication of its change
        # (seconds); the publication goes on after that, in its own thread. Below gunicorn's
        # 30 s timeout, which would otherwise kill a large publication and the response.
        "PUBLISH_WAIT_SECONDS": float(os.environ.get("GRIDFEED_PUBLISH_WAIT_SECONDS", "20")),
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
        # -- subscriber counts --
        # Count distinct fetchers of each feed per day (salted hashes, salt deleted daily).
        "STATS_ENABLED": _env_bool("GRIDFEED_STATS", True),
        # How often a web process writes its in-memory counts to the database (seconds).
        "STATS_FLUSH_SECONDS": float(os.environ.get("GRIDFEED_STATS_FLUSH_SECONDS", "30")),
        # -- rate limits ("N/second|minute|hour|day", several joined with ";") --
        "RATELIMIT_ENABLED": _env_bool("GRIDFEED_RATE_LIMITS", True),
        # memory:// counts per process; give several web processes one redis://host:6379 .
        "RATELIMIT_STORAGE_URI": os.environ.get("GRIDFEED_RATE_LIMIT_STORAGE_URI", "memory://"),
        "RATE_LIMIT_API_WRITES": os.environ.get("GRIDFEED_RATE_LIMIT_API_WRITES", "120/minute"),
        "RATE_LIMIT_WEBSUB_CLIENT": os.environ.get(
            "GRIDFEED_RATE_LIMIT_WEBSUB_CLIENT", "20/minute;200/day"
        ),
        "RATE_LIMIT_WEBSUB_CALLBACK_HOST": os.environ.get(
            "GRIDFEED_RATE_LIMIT_WEBSUB_CALLBACK_HOST", "10/minute;100/day"
        ),
        # Idempotency-Key answers are replayed for this long, then purged by the worker.
        "IDEMPOTENCY_HOURS": float(os.environ.get("GRIDFEED_IDEMPOTENCY_HOURS", "24")),
        # Proxies in front of the app whose X-Forwarded-Proto/Host to trust (for HTTPS checks).
        "TRUSTED_PROXY_HOPS": int(os.environ.get("GRIDFEED_TRUSTED_PROXY_HOPS", "0")),
    }


SECRET_KEY_FILE = "secret_key"
# Keys published in code or documentation (ours and Flask's examples): never secret.
KNOWN_SECRET_KEYS = frozenset(
    {"dev-only-not-secret", "dev", "development", "secret", "changeme", "change-me", "test"}
)
MIN_SECRET_KEY_LENGTH = 32


class ConfigurationError(RuntimeError):
    """A setting that would make the deployment unsafe; the message names the setting."""


def resolve_secret_key(config: dict[str, Any], instance_path: str) -> None:
    """Fill in ``SECRET_KEY``: refuse a known, empty or short one; when unset, read the
    instance folder's key file, generating it (mode 0600) on first start."""
    key = config["SECRET_KEY"]
    if key is None:
        config["SECRET_KEY"] = _instance_secret_key(Path(instance_path) / SECRET_KEY_FILE)
        return
    if not key.strip() or key in KNOWN_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            "SECRET_KEY is empty, too short or a published default: set it to a random value "
            f"of at least {MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'), or unset it to have one generated into "
            f"{Path(instance_path) / SECRET_KEY_FILE}"
        )


def _instance_secret_key(path: Path) -> str:
    try:
        # O_EXCL: of several processes starting at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(f"SECRET_KEY: the key file {path} is empty or short") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


EMBEDDED_TRUSTED_HOSTS = ["localhost", "127.0.0.1"]


def resolve_trusted_hosts(config: dict[str, Any]) -> None:
    """Decide which Host headers are answered, so that none writes the links: the configured
    list; else any host when links come from PUBLIC_BASE_URL; else localhost only on the
    embedded (SQLite) default. A production (non-SQLite) start with neither is refused."""
    if config["TRUSTED_HOSTS"] is not None or config["PUBLIC_BASE_URL"]:
        return
    if not config["DATABASE_URL"].startswith("sqlite"):
        raise ConfigurationError(
            "set GRIDFEED_PUBLIC_BASE_URL (the public https://... address links are built "
            "from) or GRIDFEED_TRUSTED_HOSTS (the host names this service answers): without "
            "either, the Host header of each request would write the links of feeds and pages"
        )
    config["TRUSTED_HOSTS"] = list(EMBEDDED_TRUSTED_HOSTS)


def parse_bool(raw: str) -> bool:
    """The one spelling of a yes/no setting: 1, true, yes or on (any case) mean yes."""
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else parse_bool(raw)
