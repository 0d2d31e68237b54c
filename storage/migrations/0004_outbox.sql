-- TEMPORARY stand-in until the outbox branch is merged (replaced by its 0004_outbox.sql).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before TEXT,
    next_attempt_at TEXT,
    last_error TEXT,
    batch TEXT,
    sent_message_id INTEGER,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
