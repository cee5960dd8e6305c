"""Rate limits, counted in Flask-Limiter's storage: in memory on one machine (per process),
Redis or Memcached through ``RATELIMIT_STORAGE_URI`` when several web processes run.

The limits are checked where the thing limited is known (the token after authentication, the
callback host after parsing), so views call ``enforce`` rather than carry decorators.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

EXTENSION = "gridfeed.ratelimit"


def enforce(setting: str, scope: str, key: str) -> None:
    """Count one request of ``key`` against the limits in ``setting`` (e.g. "10/minute");
    raise a 429 with Retry-After when one of them is used up (nothing is counted then)."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    strategy = limiter.limiter
    items = parse_many(current_app.config[setting])
    # Test every limit first, so a refused request does not use up another limit.
    for item in items:
        if not strategy.test(item, scope, key):
            reset_at = strategy.get_window_stats(item, scope, key).reset_time
            raise TooManyRequests(
                description=f"too many requests ({item}); retry after the time in Retry-After",
                retry_after=max(1, math.ceil(reset_at - time.time())),
            )
    for item in items:
        strategy.hit(item, scope, key)


def init_app(app: Flask) -> None:
    """Create the app's limiter (its storage from ``RATELIMIT_STORAGE_URI``)."""
    app.extensions[EXTENSION] = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy="moving-window",
        headers_enabled=False,  # our 429s carry Retry-After themselves
    )
