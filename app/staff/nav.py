"""The staff header navigation: which pages a role may open, and which one the request is on.

One list, read by ``base.html`` (rendered once as a row on wide screens and once inside a no-JavaScript
``<details>`` menu on phones). Each entry's roles match the guard of the page it opens, so nobody is shown a
link that answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l

from app.accounts.models import Role

UNIT = Role.UNIT
ADMIN = (Role.TENANT_ADMIN,)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    current: bool


#: key, label, endpoint, roles allowed, endpoint prefixes that count as "on this page".
ITEMS = (
    ("inbox", _l("Inbox"), "tenant.complaints_staff.inbox_list", Role.STAFF, ("tenant.complaints_staff.",
                                                                                 "tenant.privacy_staff.")),
    ("dashboard", _l("Dashboard"), "tenant.staff.dashboard", Role.STAFF, ("tenant.staff.dashboard",)),
    ("notifications", _l("Notifications"), "tenant.staff.notifications", Role.STAFF, ("tenant.staff.notification",
                                                                                      "tenant.staff.mark_")),
    ("templates", _l("Answer templates"), "tenant.complaints_staff.templates", UNIT,
     ("tenant.complaints_staff.template",)),
    ("command_center", _l("Command center"), "tenant.command_center.wall", UNIT, ("tenant.command_center.",)),
    ("administration", _l("Administration"), "tenant.settings.index", ADMIN, ("tenant.settings.",
                                                                             "tenant.onboarding_tenant.")),
    ("integrations", _l("Integrations"), "tenant.integrations.index", ADMIN, ("tenant.integrations.",
                                                                             "tenant.api_keys.")),
    ("account", _l("Account"), "tenant.accounts.account", Role.STAFF, ("tenant.accounts.",)),
)


def staff_nav(user, endpoint: str | None) -> list[NavItem]:
    """The header links ``user`` may open, the current one marked (the most specific prefix wins)."""
    endpoint = endpoint or ""
    role = getattr(user, "role", None)
    allowed = [item for item in ITEMS if role in item[3]]
    best = max(((len(p), item[0]) for item in allowed for p in item[4] if endpoint.startswith(p)), default=None)
    return [NavItem(key, str(label), url_for(ep), best is not None and best[1] == key)
            for key, label, ep, _roles, _prefixes in allowed]
