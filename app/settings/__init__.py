"""Tenant settings after go-live: branding, agencies and liaisons, categories and routing, deadlines and
local holidays, staff, and the audit trail of every change."""
