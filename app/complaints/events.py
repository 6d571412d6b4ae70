"""Complaint events → subscribers: the core records an event and emits it; it knows no subscriber.

Notification rules (app.notifications.rules), webhooks and the SP4N-LAPOR! bridge
(app.integrations.events) call :func:`subscribe` when their module is imported (app.wiring imports
them). Every channel (web, REST, Open311, SMS/WhatsApp inbound, jobs) goes through the complaint
service, so every channel reaches the same subscribers. Subscribers run in the caller's transaction:
they write rows and outbox entries, never send anything themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventContext:
    """What a subscriber needs to know about an event beyond its row."""

    #: "citizen", "system" or a staff role.
    actor_role: str
    #: The staff user who acted (never told about their own action).
    actor_user_id: int | None = None
    #: False when the channel answers the reporter itself (the inbound gateway's reply).
    notify_reporter: bool = True
    #: Agencies this event newly gave the complaint to (a disposition).
    agency_ids: tuple[int, ...] = field(default_factory=tuple)
    #: The stage deadline changed with this event (the message names the new one).
    deadline_changed: bool = False


Subscriber = Callable[[object, object, EventContext], None]
_SUBSCRIBERS: list[tuple[int, Subscriber]] = []


def subscribe(fn: Subscriber, order: int = 100) -> Subscriber:
    """Register ``fn(complaint, event, context)``; lower ``order`` runs first. Registering twice is a no-op."""
    if all(existing is not fn for _o, existing in _SUBSCRIBERS):
        _SUBSCRIBERS.append((order, fn))
        _SUBSCRIBERS.sort(key=lambda item: item[0])
    return fn


def emit(complaint, event, context: EventContext) -> None:
    """Hand one recorded event to every subscriber, in this transaction."""
    for _order, fn in list(_SUBSCRIBERS):
        fn(complaint, event, context)
