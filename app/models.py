"""Import every model module so the metadata (and Alembic) sees all tables; nothing else (jobs and
event subscribers are wired by :func:`app.wiring.register_all`)."""

from app.accounts.audit import PlatformSecurityEvent, SecurityEvent  # noqa: F401
from app.accounts.models import PlatformAdmin, PlatformSession, User, UserSession  # noqa: F401
from app.agencies.models import Agency, Category  # noqa: F401
from app.api.models import ApiKey  # noqa: F401
from app.complaints.duplicates import DuplicateCandidate  # noqa: F401
from app.complaints.exports import ComplaintExport  # noqa: F401
from app.complaints.models import (  # noqa: F401
    Attachment,
    CodeCounter,
    Complaint,
    ComplaintEvent,
    ContactLink,
    Disposition,
    Follower,
    FollowUp,
    Rating,
    ResponseTemplate,
)
from app.complaints.referral_models import Referral  # noqa: F401
from app.integrations.models import (  # noqa: F401
    BridgeItem,
    BridgeLink,
    InboundMessage,
    InboundToken,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from app.jobs.outbox import OutboxMessage  # noqa: F401
from app.notifications.models import (  # noqa: F401
    MessageTemplate,
    Notification,
    NotificationPreference,
    StaffNotification,
)
from app.onboarding.models import PlatformMessage, TenantApplication, TenantAuditEvent  # noqa: F401
from app.privacy.models import DataAccessRequest  # noqa: F401
from app.tenancy.models import Tenant, TenantDomain  # noqa: F401


def include_for_dialect(dialect_name: str):
    """Alembic ``include_object``: leave out objects declared for another database only (``ddl_if``),
    such as the PostgreSQL GIN search index, which autogenerate would otherwise want on SQLite."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        wanted = getattr(ddl_if, "dialect", None)
        if wanted is None:
            return True
        return dialect_name == wanted or (not isinstance(wanted, str) and dialect_name in wanted)

    return include_object
