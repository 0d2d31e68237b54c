-- CCS-C committees and their members (issue 5). The six communal security consultative
-- committees of Bamako exist from the first start; coordinators add others.
CREATE TABLE committees (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,           -- 'ccsc_bamako_c1': also the scope of roles
    name           TEXT NOT NULL,                  -- 'CCS-C Commune I' (a proper name)
    commune        TEXT,                           -- place code of handlers/report/places.py
    created_at     TEXT NOT NULL
);
INSERT INTO committees (code, name, commune, created_at) VALUES
    ('ccsc_bamako_c1', 'CCS-C Commune I', 'bamako_c1', '2026-01-01T00:00:00+00:00'),
    ('ccsc_bamako_c2', 'CCS-C Commune II', 'bamako_c2', '2026-01-01T00:00:00+00:00'),
    ('ccsc_bamako_c3', 'CCS-C Commune III', 'bamako_c3', '2026-01-01T00:00:00+00:00'),
    ('ccsc_bamako_c4', 'CCS-C Commune IV', 'bamako_c4', '2026-01-01T00:00:00+00:00'),
    ('ccsc_bamako_c5', 'CCS-C Commune V', 'bamako_c5', '2026-01-01T00:00:00+00:00'),
    ('ccsc_bamako_c6', 'CCS-C Commune VI', 'bamako_c6', '2026-01-01T00:00:00+00:00');

-- Membership requests and members. One row per (committee, person); the status moves from
-- 'pending' to 'active' (approved) or 'declined', and later to 'left' or 'removed'.
CREATE TABLE committee_members (
    id             INTEGER PRIMARY KEY,
    committee_id   INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    member_type    TEXT NOT NULL CHECK (member_type IN (
                       'fsi', 'local_authority', 'civil_society', 'women', 'youth',
                       'traditional_religious', 'other')),
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN (
                       'pending', 'active', 'declined', 'left', 'removed')),
    requested_at   TEXT NOT NULL,
    decided_at     TEXT,
    decided_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    UNIQUE (committee_id, user_id)
);
CREATE INDEX committee_members_user ON committee_members (user_id);

-- What participation figures need, asked once and reused (members, and people who register
-- for open sessions): collected only for these figures, deleted with the user.
CREATE TABLE participant_profiles (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sex            TEXT NOT NULL CHECK (sex IN ('female', 'male')),
    age_group      TEXT NOT NULL CHECK (age_group IN ('under_18', '18_24', '25_35', 'over_35')),
    display_name   TEXT,                           -- may be a first name only
    updated_at     TEXT NOT NULL
);
