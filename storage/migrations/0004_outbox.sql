-- The outbox (issue 4): every message sent later or to many people is a row here first, and
-- a background sender (bot/outbox/sender.py) delivers it within Telegram's rate limits.
-- `key` names what is sent to whom (e.g. 'alert:42:user:7'), so nothing is queued twice.
-- `last_error` holds an error type or code, never the text of a message.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    key              TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL DEFAULT 'message',  -- message, alert, digest, announcement...
    channel          TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    user_id          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    payload          TEXT NOT NULL CHECK (json_valid(payload)),  -- storage.outbox.Outgoing
    status           TEXT NOT NULL DEFAULT 'queued' CHECK (status IN (
                         'queued', 'sending', 'sent', 'failed', 'blocked', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    not_before       TEXT,                         -- scheduled sends (digests, announcements)
    next_attempt_at  TEXT NOT NULL,                -- ISO 8601 UTC, milliseconds
    last_error       TEXT,
    batch            TEXT,                         -- one broadcast's rows share it
    sent_message_id  INTEGER,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
-- What the sender reads: the queued rows by due time (a partial index stays small).
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'queued';
-- Rows left "sending" by a crash, found at start-up.
CREATE INDEX outbox_in_flight ON outbox (id) WHERE status = 'sending';
-- A broadcast's progress (/diffusion) and its cancellation.
CREATE INDEX outbox_batch ON outbox (batch, status) WHERE batch IS NOT NULL;
-- What a user deletion (/effacer) must stop.
CREATE INDEX outbox_chat ON outbox (channel, chat_id);

-- Users who blocked the bot (Telegram's 403): nothing more is sent to them until they write
-- again.
ALTER TABLE users ADD COLUMN blocked_at TEXT;

-- /effacer deletes the user's row: what was still to be sent to them is cancelled, and the
-- chat id is dropped from every row (BEFORE DELETE: the foreign key would already have set
-- user_id to NULL in an AFTER trigger).
CREATE TRIGGER outbox_forget_user BEFORE DELETE ON users
BEGIN
    UPDATE outbox SET status = 'cancelled'
     WHERE status IN ('queued', 'sending')
       AND (user_id = OLD.id OR (channel = OLD.channel AND chat_id = OLD.chat_id));
    UPDATE outbox SET chat_id = ''
     WHERE user_id = OLD.id OR (channel = OLD.channel AND chat_id = OLD.chat_id);
END;
