"""Background jobs: a registry of plain functions, run through the transactional outbox.

Code that must trigger a job calls :func:`app.jobs.outbox.enqueue` inside its transaction.
After commit the relay hands the row to RQ (``REDIS_URL`` set) or runs it in-process.
"""

from __future__ import annotations

from collections.abc import Callable

#: job name → (function, queue name)
REGISTRY: dict[str, tuple[Callable, str]] = {}
#: job name → function returning the RQ ``Retry`` for that job (default: app.jobs.queue.RETRY).
RETRIES: dict[str, Callable] = {}

QUEUES = ("notifications", "default", "periodic")


def job(name: str, queue: str = "default", retry: Callable | None = None) -> Callable[[Callable], Callable]:
    """Register a job handler. Handlers take ``tenant_id`` and keyword data and must be idempotent.

    :param retry: returns the RQ ``Retry`` policy for this job (read when the row is relayed).
    """

    def deco(fn: Callable) -> Callable:
        if name in REGISTRY and REGISTRY[name][0] is not fn:
            raise RuntimeError(f"job {name!r} registered twice")
        REGISTRY[name] = (fn, queue)
        if retry is not None:
            RETRIES[name] = retry
        return fn

    return deco


class RetryLater(Exception):
    """Returned (not raised) by a handler whose writes must be kept, such as a delivery log, but whose
    work is not done: the outbox commits those writes and then raises it, so RQ retries the job."""
