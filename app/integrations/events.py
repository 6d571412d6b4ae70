"""The one place complaint events reach integrations; called by ``complaints.service.record_event``.

Everything here writes rows and outbox entries in the caller's transaction: if it rolls back, no
webhook fires and nothing is pushed; if Redis is down, the outbox rows wait for the relay.
"""

from __future__ import annotations


def complaint_event_recorded(complaint, event) -> None:
    from app.integrations import sp4n, webhooks

    webhooks.queue_event(complaint, event)
    if event.kind == "verify":
        sp4n.queue_push(complaint)
