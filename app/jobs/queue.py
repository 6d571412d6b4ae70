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


RUNNER = "app.jobs.runner.run_outbox_job"


def enqueue_outbox_row(outbox_id: int, tenant_id: int, queue_name: str, retry: Retry | None = None) -> None:
    """Enqueue one outbox row; a second call for the same row finds the job and adds nothing."""
    enqueue_outbox_rows([(outbox_id, tenant_id, queue_name, retry)])


def enqueue_outbox_rows(rows: list[tuple[int, int, str, Retry | None]]) -> int:
    """Enqueue outbox rows ``(id, tenant_id, queue, retry)`` in two round trips to Redis, whatever their number:
    one asks which jobs exist already (a row relayed before keeps its job: nothing is added twice), one
    pipeline adds the others to their queues. Returns how many were added."""
    if not rows:
        return 0
    conn = redis_connection()
    with conn.pipeline(transaction=False) as pipe:
        for outbox_id, *_rest in rows:
            pipe.exists(Job.key_for(f"outbox-{outbox_id}"))
        present = pipe.execute()
    by_queue: dict[str, list] = {}
    for (outbox_id, tenant_id, queue_name, retry), there in zip(rows, present, strict=True):
        if not there:
            by_queue.setdefault(queue_name, []).append(Queue.prepare_data(
                RUNNER, (outbox_id, tenant_id), job_id=f"outbox-{outbox_id}", retry=retry or RETRY,
                result_ttl=86400, failure_ttl=7 * 86400))
    if by_queue:
        with conn.pipeline() as pipe:
            for queue_name, datas in by_queue.items():
                get_queue(queue_name, conn).enqueue_many(datas, pipeline=pipe)
            pipe.execute()
    return sum(len(d) for d in by_queue.values())
