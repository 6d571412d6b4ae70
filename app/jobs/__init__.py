"""Background jobs: a registry of plain functions, run through the transactional outbox.

Code that must trigger a job calls :func:`app.jobs.outbox.enqueue` inside its transaction.
After commit the relay hands the row to RQ (``REDIS_URL`` set) or runs it in-process.
"""

from __future__ import annotations

from collections.abc import Callable

#: job name → (function, queue name)
REGISTRY: dict[str, tuple[Callable, str]] = {}

QUEUES = ("notifications", "default", "periodic")


def job(name: str, queue: str = "default") -> Callable[[Callable], Callable]:
    """Register a job handler. Handlers take ``tenant_id`` and keyword data and must be idempotent."""

    def deco(fn: Callable) -> Callable:
        if name in REGISTRY and REGISTRY[name][0] is not fn:
            raise RuntimeError(f"job {name!r} registered twice")
        REGISTRY[name] = (fn, queue)
        return fn

    return deco
