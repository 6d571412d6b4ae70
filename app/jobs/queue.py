"""RQ connection and enqueueing with deterministic job ids."""

from __future__ import annotations

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.job import Job

#: Retry with growing pauses; needs `rq worker --with-scheduler`.
RETRY = Retry(max=4, interval=[10, 60, 300, 900])


_clients: dict[str, Redis] = {}


def redis_connection() -> Redis:
    """The process's Redis client for REDIS_URL (its connection pool is thread-safe and reused, so a
    request that enqueues does not open a new TCP connection each time)."""
    url = current_app.config["REDIS_URL"]
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return client


def get_queue(name: str, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection())


def enqueue_outbox_row(outbox_id: int, tenant_id: int, queue_name: str, retry: Retry | None = None) -> Job:
    """Enqueue one outbox row; a second call for the same row finds the job and adds nothing."""
    conn = redis_connection()
    job_id = f"outbox-{outbox_id}"
    existing = Job.fetch(job_id, connection=conn) if Job.exists(job_id, connection=conn) else None
    if existing is not None:
        return existing
    return get_queue(queue_name, conn).enqueue(
        "app.jobs.runner.run_outbox_job", outbox_id, tenant_id, job_id=job_id, retry=retry or RETRY,
        result_ttl=86400, failure_ttl=7 * 86400,
    )
