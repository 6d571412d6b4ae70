"""Open interfaces to other systems: webhooks, the inbound SMS/WhatsApp gateway, the SP4N-LAPOR! bridge."""
