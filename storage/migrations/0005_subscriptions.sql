-- Alert subscriptions (issue 4): which areas a person follows, from which severity, and how
-- the alerts reach them; and whether they paused every alert with STOP.

-- One row per person and area. `area_kind` says what `area_code` is: 'mali' (code '', the
-- whole country), 'region' (a region code of handlers/report/places.py, 'bamako' for the whole
-- District) or 'commune' (a Bamako commune code such as 'bamako_c4'; a cercle code would fit
-- the same way). An alert reaches the row when its severity is at least `min_severity`.
-- 'digest' rows get one message a day at `digest_hour` (local time, KIBARU_TIMEZONE); alerts
-- of severity 4 ignore that and go at once.
CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    area_kind     TEXT NOT NULL CHECK (area_kind IN ('mali', 'region', 'commune')),
    area_code     TEXT NOT NULL DEFAULT '',
    min_severity  INTEGER NOT NULL CHECK (min_severity BETWEEN 1 AND 4),
    delivery      TEXT NOT NULL CHECK (delivery IN ('now', 'digest')),
    digest_hour   INTEGER CHECK (digest_hour BETWEEN 0 AND 23),
    created_at    TEXT NOT NULL,                  -- ISO 8601, UTC
    CHECK ((delivery = 'digest') = (digest_hour IS NOT NULL)),
    CHECK ((area_kind = 'mali') = (area_code = '')),
    UNIQUE (user_id, area_kind, area_code)
);
-- Who follows an area, when an alert is validated there.
CREATE INDEX subscriptions_area ON subscriptions (area_kind, area_code, min_severity);

-- A row here means "send me nothing" (STOP/ARRET), whatever the subscriptions and roles say;
-- /alertes deletes it. Kept apart from the subscriptions so that resuming brings them all back.
CREATE TABLE alert_pauses (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    paused_at  TEXT NOT NULL                      -- ISO 8601, UTC
);
