"""How integrations subscribe to complaint events (app.complaints.events): the core never imports them.

Everything here writes rows and outbox entries in the caller's transaction: if it rolls back, no
webhook fires and nothing is pushed; if Redis is down, the outbox rows wait for the relay.
"""

from __future__ import annotations

from app.complaints.events import EventContext, subscribe
from app.integrations import sp4n, webhooks


def complaint_event_recorded(complaint, event, context: EventContext | None = None) -> None:

    webhooks.queue_event(complaint, event)
    if event.kind == "verify":
        sp4n.queue_push(complaint)


subscribe(complaint_event_recorded, order=10)
