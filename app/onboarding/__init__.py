"""Onboarding: sign-up applications, provisioning (template or peer clone), platform mail, checklist."""
