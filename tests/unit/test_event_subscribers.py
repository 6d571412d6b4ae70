"""The complaint core records events and emits them; it never imports its subscribers."""

from __future__ import annotations

import ast
from pathlib import Path

from app.complaints import events

CORE = Path(__file__).resolve().parents[2] / "app" / "complaints"
SUBSCRIBER_MODULES = ("app.integrations", "app.notifications.rules", "app.notifications.service",
                      "app.notifications.digest")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_complaint_core_imports_no_subscriber():
    offending = sorted(f"{path.name}: {name}" for path in CORE.glob("*.py") for name in _imports(path)
                       if name.startswith(SUBSCRIBER_MODULES))
    assert not offending, offending


def test_notifications_webhooks_and_the_bridge_are_subscribed(app):
    names = {f"{fn.__module__}.{fn.__name__}" for _order, fn in events._SUBSCRIBERS}
    assert {"app.notifications.rules.on_complaint_event",
            "app.integrations.events.complaint_event_recorded"} <= names
