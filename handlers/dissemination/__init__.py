"""Alerts: what a validated report becomes, and who receives it, each in their language."""
