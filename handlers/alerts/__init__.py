"""Alerts: who follows which area (`/alertes`), the severities, and STOP."""
