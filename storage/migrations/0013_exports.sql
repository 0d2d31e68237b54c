-- Exports (issue 6): a coordinator's /export is a row here, built by a background worker
-- (handlers/exports/worker.py) outside any user's turn, so a large file never holds the
-- engine's transaction, and a restart finds the request again and builds it anew.
CREATE TABLE exports (
    id             INTEGER PRIMARY KEY,
    -- the coordinator who asked; their /effacer drops the request (and the worker then
    -- sends nothing)
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel        TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    language       TEXT NOT NULL,                  -- headers and labels of the file
    dataset        TEXT NOT NULL,                  -- 'reports', 'participation'
    format         TEXT NOT NULL,                  -- a name of handlers/exports/formats.FORMATS
    period_start   TEXT NOT NULL,                  -- ISO date, local: the first day
    period_end     TEXT NOT NULL,                  -- ISO date, local: the day after the last
    status         TEXT NOT NULL DEFAULT 'queued' CHECK (status IN (
                       'queued', 'building', 'done', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,     -- builds started (a crash restarts one)
    rows_total     INTEGER,
    rows_done      INTEGER NOT NULL DEFAULT 0,
    file_path      TEXT,                           -- set when done, until purged
    error          TEXT,                           -- an error type or code, never data
    requested_at   TEXT NOT NULL,
    started_at     TEXT,
    finished_at    TEXT,
    purged_at      TEXT                            -- the file was removed from the disk
);
-- What the worker looks for: small, since finished requests leave it.
CREATE INDEX exports_unfinished ON exports (id) WHERE status IN ('queued', 'building');
-- What the purge looks for.
CREATE INDEX exports_unpurged ON exports (finished_at) WHERE purged_at IS NULL;
CREATE INDEX exports_user ON exports (user_id);

-- Validated reports by the day they happened: exports, and the bulletins' figures.
CREATE INDEX reports_status_occurred ON reports (status, occurred_on, id);
