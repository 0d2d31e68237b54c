-- Users, roles, conversation state and the audit log: the ground every feature stands on.

-- One row per (channel, chat): the only personal data kept at onboarding is the chat id
-- (needed to answer) and the language the user chose.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    language    TEXT,                       -- NULL until the user picks one
    created_at  TEXT NOT NULL,              -- ISO 8601, UTC
    UNIQUE (channel, chat_id)
);

-- A role with an optional scope (region or commune code); '' means everywhere, so that the
-- primary key stays unique (NULLs would all be distinct).
CREATE TABLE roles (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN (
                    'coordinator', 'validator', 'focal_point', 'ccsc_secretary', 'ccsc_member')),
    scope       TEXT NOT NULL DEFAULT '',
    granted_at  TEXT NOT NULL,
    granted_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (user_id, role, scope)
);

-- Where each user is in a conversation. `frames` is a JSON stack of
-- {flow, step, answers, history}; `prompt` numbers the last question asked so that buttons of
-- older questions are recognised as expired, and `asked` says which question that was (asking
-- the same one again keeps its number, so its earlier copies stay usable); `last_event_id`
-- recognises an update delivered twice.
CREATE TABLE conversations (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    frames         TEXT NOT NULL,
    prompt         INTEGER NOT NULL DEFAULT 0,
    asked          TEXT,
    last_event_id  INTEGER,
    updated_at     TEXT NOT NULL
);

-- Who did what to whom, for privileged actions. Ids and codes only: never message text,
-- names or phone numbers.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action    TEXT NOT NULL,
    subject   TEXT,
    detail    TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
