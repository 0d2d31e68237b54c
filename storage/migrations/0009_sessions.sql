-- Sessions of the CCS-C committees (issue 5): meetings, who was invited, who answered what
-- and who came. Participation figures read invitations.attended and sessions(id,
-- committee_id, starts_at, status): keep those names.

-- The monthly rule of a committee: "first Thursday of each month at 10:00" (local time).
CREATE TABLE session_rules (
    id             INTEGER PRIMARY KEY,
    committee_id   INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    nth            INTEGER NOT NULL CHECK (nth BETWEEN -1 AND 5 AND nth <> 0),  -- -1: last
    weekday        INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),            -- 0: Monday
    local_time     TEXT NOT NULL,                                               -- '10:00'
    title          TEXT NOT NULL,
    place          TEXT NOT NULL,
    kind           TEXT NOT NULL DEFAULT 'statutory' CHECK (kind IN (
                       'statutory', 'training', 'workshop', 'other')),
    active         INTEGER NOT NULL DEFAULT 1,
    created_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    committee_id   INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('statutory', 'training', 'workshop', 'other')),
    title          TEXT NOT NULL,
    starts_at      TEXT NOT NULL,                  -- UTC
    place          TEXT NOT NULL,
    agenda         TEXT,
    summary        TEXT,
    status         TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    capacity       INTEGER,                        -- NULL: no limit
    checkin_code   TEXT NOT NULL,                  -- 4 digits read out at the meeting
    rule_id        INTEGER REFERENCES session_rules (id) ON DELETE SET NULL,
    created_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (rule_id, starts_at)                    -- the monthly rule never creates one twice
);
CREATE INDEX sessions_committee ON sessions (committee_id, starts_at);

CREATE TABLE invitations (
    session_id     INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    answer         TEXT CHECK (answer IN ('yes', 'maybe', 'no')),   -- NULL until answered
    answered_at    TEXT,
    waitlisted     INTEGER NOT NULL DEFAULT 0,
    attended       INTEGER CHECK (attended IN (0, 1)),             -- NULL: not recorded
    checked_in_at  TEXT,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX invitations_user ON invitations (user_id);

-- A message that is pointless once a moment has passed (a reminder of a session that has
-- started, e.g. after downtime): the sender drops it instead of sending it late.
ALTER TABLE outbox ADD COLUMN expires_at TEXT;

