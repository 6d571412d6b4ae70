"""A value computed once and shared by every web worker through Redis for a number of seconds.

Used for aggregates that need not be fresher than that (the central comparison, the public transparency
page's figures). Without Redis, with 0 seconds, or while Redis is unreachable, the value is computed each time:
a cache outage only costs time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import current_app

from app.jobs.queue import redis_connection

log = logging.getLogger(__name__)
T = TypeVar("T")


def shared(key: str, seconds: int, compute: Callable[[], T], *, dumps: Callable[[T], bytes | str],
           loads: Callable[[bytes], T], refresh: bool = False) -> T:
    """``compute()``, read from or written to Redis under ``key`` for ``seconds``; ``refresh`` recomputes and
    rewrites it."""
    conn = redis_connection() if current_app.config.get("REDIS_URL") and seconds > 0 else None
    if conn is not None and not refresh:
        try:
            raw = conn.get(key)
        except Exception:  # noqa: BLE001 (a cache outage only costs time)
            raw = None
        if raw:
            return loads(raw)
    value = compute()
    if conn is not None:
        try:
            conn.set(key, dumps(value), ex=seconds)
        except Exception:  # noqa: BLE001
            log.warning("shared cache unavailable (%s)", key.rsplit(":", 1)[0])
    return value
