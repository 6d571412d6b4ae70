"""Tenancy: THE place tenant scoping lives. Import from here."""

from app.tenancy.models import Tenant, TenantDomain, TenantStatus
from app.tenancy.scope import (
    CrossTenantWrite,
    NoTenantBound,
    TenantScoped,
    current_tenant,
    current_tenant_id,
    tenant_scope,
)

__all__ = [
    "CrossTenantWrite", "NoTenantBound", "Tenant", "TenantDomain", "TenantScoped", "TenantStatus",
    "current_tenant", "current_tenant_id", "tenant_scope",
]
