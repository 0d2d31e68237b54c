"""Validated public alerts as CAP 1.2 messages (OASIS Common Alerting Protocol), the format
partner platforms (national early-warning centres, regional systems) read: `mapping` says how
Kibaru's categories, severities and places become CAP's vocabulary, `message` renders one
message, `webhook` queues each new public alert for the partners' webhook, and `export`
writes the messages of a period as one zip file."""
