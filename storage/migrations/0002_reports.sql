-- Incident reports (issue 3): the reports, their reference counters, their media, the links
-- between possible duplicates, and the drafts of reports in progress.

-- One counter per year, so references run ML-2026-000001, ML-2026-000002, ... without gaps or
-- races: the next number is taken by an UPSERT inside the transaction that inserts the report
-- (which holds SQLite's write lock from BEGIN IMMEDIATE), so a rolled-back report gives its
-- number back and two writers never get the same one.
CREATE TABLE report_counters (
    year  INTEGER PRIMARY KEY,
    last  INTEGER NOT NULL
);

-- A confirmed report. The reporter's user id is kept only to send them feedback; it becomes
-- NULL when they use /effacer (unlinked, or their user row deleted), and the trigger below
-- then drops the contact they had chosen, so the report that stays is anonymous.
CREATE TABLE reports (
    id             INTEGER PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,           -- ML-YYYY-NNNNNN
    reporter_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    category       TEXT NOT NULL,                  -- code from handlers/report/categories.py
    occurred_on    TEXT NOT NULL,                  -- ISO date, local date in KIBARU_TIMEZONE
    occurred_time  TEXT CHECK (occurred_time IS NULL
                               OR occurred_time GLOB '[0-2][0-9]:[0-5][0-9]'),  -- 'HH:MM'
    day_period     TEXT CHECK (day_period IN ('morning', 'afternoon', 'evening', 'night')),
    region         TEXT,                           -- codes from handlers/report/places.py
    cercle         TEXT,                           -- cercle or Bamako commune
    locality       TEXT,                           -- typed town/village when not in the lists
    place_detail   TEXT,                           -- optional: village, quartier, road
    latitude       REAL,
    longitude      REAL,
    precision      TEXT NOT NULL CHECK (precision IN (
                       'exact_pin', 'locality', 'cercle_or_commune', 'region')),
    description    TEXT,                           -- NULL when a voice note or photo says it
    killed         INTEGER CHECK (killed IS NULL OR killed >= 0),         -- NULL: don't know
    injured        INTEGER CHECK (injured IS NULL OR injured >= 0),
    missing        INTEGER CHECK (missing IS NULL OR missing >= 0),
    displaced      INTEGER CHECK (displaced IS NULL OR displaced >= 0),
    contact        TEXT NOT NULL CHECK (contact IN ('anonymous', 'via_bot', 'phone')),
    contact_phone  TEXT,                           -- only when contact = 'phone'
    language       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'received' CHECK (status IN (
                       'received', 'under_review', 'validated', 'rejected', 'needs_details')),
    created_at     TEXT NOT NULL,                  -- ISO 8601, UTC
    -- a phone number is stored only if the reporter chose to give it, and then always
    CHECK ((contact = 'phone') = (contact_phone IS NOT NULL)),
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
-- A reporter's reports newest first (/mes_signalements), flood control (reports since a time),
-- /effacer and the ON DELETE SET NULL of users.
CREATE INDEX reports_reporter ON reports (reporter_id, created_at);
-- Possible duplicates: same category in the same cercle (or region) within 24 hours.
CREATE INDEX reports_similar_cercle ON reports (category, cercle, created_at);
CREATE INDEX reports_similar_region ON reports (category, region, created_at);

-- Unlinking a reporter (their user row deleted, or /effacer) leaves nobody to contact: forget
-- the phone number and the "contact me through the bot" choice with the link.
CREATE TRIGGER reports_reporter_unlinked
AFTER UPDATE OF reporter_id ON reports
WHEN OLD.reporter_id IS NOT NULL AND NEW.reporter_id IS NULL
BEGIN
    UPDATE reports SET contact = 'anonymous', contact_phone = NULL WHERE id = NEW.id;
END;

-- Photos, videos, voice notes and documents: a draft's (owned by the user, no report yet)
-- until the report is confirmed, then the report's.
CREATE TABLE report_media (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER REFERENCES reports (id) ON DELETE CASCADE,  -- NULL while a draft
    draft_owner  INTEGER REFERENCES users (id) ON DELETE CASCADE,    -- NULL once attached
    purpose      TEXT NOT NULL CHECK (purpose IN ('description', 'evidence')),
    kind         TEXT NOT NULL,                    -- photo, video, voice, audio, document, ...
    channel      TEXT NOT NULL,
    file_id      TEXT NOT NULL,                    -- the channel's id for the file
    size         INTEGER,                          -- bytes
    duration     INTEGER,                          -- seconds
    mime_type    TEXT,
    file_name    TEXT,
    local_path   TEXT,                             -- set once downloaded into KIBARU_MEDIA_DIR
    created_at   TEXT NOT NULL,
    CHECK (report_id IS NOT NULL OR draft_owner IS NOT NULL)
);
CREATE INDEX report_media_report ON report_media (report_id);
CREATE INDEX report_media_draft ON report_media (draft_owner);
-- the download queue stays small: only files not fetched yet are in this index
CREATE INDEX report_media_pending ON report_media (id) WHERE local_path IS NULL;

-- Possible duplicates, for the validators: a report is never refused for being one.
-- (report_id, similar_to): the newer report and an earlier one it resembles.
CREATE TABLE report_links (
    report_id   INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    similar_to  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    PRIMARY KEY (report_id, similar_to)
);
CREATE INDEX report_links_similar_to ON report_links (similar_to);

-- A report in progress, kept across /menu, restarts and days (dropped after 72 hours).
CREATE TABLE report_drafts (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    answers     TEXT NOT NULL,                     -- JSON object
    step        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX report_drafts_updated ON report_drafts (updated_at);
