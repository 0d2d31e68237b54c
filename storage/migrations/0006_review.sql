-- Review of reports by validators, and the alerts that validated reports become (issue 4).

-- One final decision per report: the primary key is what makes the first validator to press
-- win when two decide at once (the second INSERT finds the row and is told who decided).
CREATE TABLE review_decisions (
    report_id      INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    decision       TEXT NOT NULL CHECK (decision IN ('validated', 'rejected', 'duplicate')),
    decided_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decided_by_name TEXT,                          -- staff display name, shown to staff only
    decided_at     TEXT NOT NULL,
    reason         TEXT,                           -- rejection: a code from the list or typed
    reason_shared  INTEGER NOT NULL DEFAULT 0,     -- 1: the reporter is told the reason
    duplicate_of   INTEGER REFERENCES reports (id) ON DELETE SET NULL
);

-- A validated report becomes one alert; severity 1 information .. 4 urgence.
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    report_id      INTEGER NOT NULL UNIQUE REFERENCES reports (id) ON DELETE CASCADE,
    severity       INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    audience       TEXT NOT NULL CHECK (audience IN ('public', 'staff')),
    summary        TEXT,                           -- the validator's public summary, if typed
    created_at     TEXT NOT NULL
);
CREATE INDEX alerts_created ON alerts (created_at);

-- Questions relayed to reporters ("ask for details") and their answers. The asker is kept
-- so the answer goes back to them; the reporter never learns who asked.
CREATE TABLE report_questions (
    id             INTEGER PRIMARY KEY,
    report_id      INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    asked_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    asked_at       TEXT NOT NULL,
    question       TEXT NOT NULL,
    answer         TEXT,
    answered_at    TEXT
);
CREATE INDEX report_questions_report ON report_questions (report_id);

-- Reports whose review waited longer than the SLA: escalated to coordinators once.
CREATE TABLE review_escalations (
    report_id      INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    escalated_at   TEXT NOT NULL
);

-- The review queue, oldest first.
CREATE INDEX reports_status_created ON reports (status, created_at);
