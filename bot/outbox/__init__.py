"""The outbox's sending side: pacing (rate limits), the transport a channel implements, and
the background sender that drains storage/outbox.py's table."""
