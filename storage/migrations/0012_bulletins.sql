-- The weekly alert report and the monthly bulletin (issue 6).

-- One row per report sent on schedule, written in the same transaction as its outbox rows:
-- a period recorded here is never sent again, and a period due but missing (the bot was down
-- at the time) is sent at start-up. Dates are local (KIBARU_TIMEZONE); period_end is the first
-- day after the period.
CREATE TABLE bulletin_runs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('weekly', 'monthly')),
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    ran_at        TEXT NOT NULL,                  -- UTC
    recipients    INTEGER NOT NULL,
    UNIQUE (kind, period_start)
);

-- Chart files on disk (under the `charts` folder next to the database) and the outbox batch
-- that uploads them: a file is deleted once it is old enough and none of its batch's rows is
-- still waiting to be sent. batch is NULL for a chart sent as a direct reply (/bulletin).
CREATE TABLE bulletin_charts (
    path        TEXT PRIMARY KEY,
    batch       TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX bulletin_charts_created ON bulletin_charts (created_at);

-- The figures read reports by the day they were received and decisions by the day they were
-- made (/stats over a year scans these ranges).
CREATE INDEX reports_created ON reports (created_at);
CREATE INDEX review_decisions_decided ON review_decisions (decided_at, decision);
