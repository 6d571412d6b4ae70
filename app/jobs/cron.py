"""Periodic schedule for `rq cron app/jobs/cron.py` (RQ's CronScheduler)."""

from rq import cron

from app.jobs.runner import (
    prune_outbox,
    pull_sp4n,
    purge_identities,
    relay_outbox,
    send_digests,
    sweep_deadlines,
    warm_comparison,
)

cron.register(relay_outbox, queue_name="periodic", interval=30)
cron.register(sweep_deadlines, queue_name="periodic", interval=900)
cron.register(pull_sp4n, queue_name="periodic", interval=600)
cron.register(purge_identities, queue_name="periodic", cron="0 19 * * *")  # daily, 02.00 WIB / 03.00 WITA
cron.register(prune_outbox, queue_name="periodic", cron="30 19 * * *")  # daily, after the identity purge
cron.register(warm_comparison, queue_name="periodic", interval=240)  # inside COMPARE_CACHE_SECONDS (300)
cron.register(send_digests, queue_name="periodic", interval=900)  # acts from 07.00 local, once per user and day
