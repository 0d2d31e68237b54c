-- Announcements by coordinators to an area's subscribers or to focal points (issue 4). Each
-- recipient's message is an outbox row of the batch 'ANN-<id>', held until send_at: a
-- restart neither loses nor repeats them, and cancelling cancels the rows not yet sent.
CREATE TABLE announcements (
    id             INTEGER PRIMARY KEY,
    author_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    audience       TEXT NOT NULL CHECK (audience IN ('area', 'focal_points')),
    area           TEXT,                           -- region or commune code; NULL: all Mali
    text           TEXT NOT NULL,
    send_at        TEXT NOT NULL,                  -- ISO 8601 UTC
    created_at     TEXT NOT NULL,
    cancelled_at   TEXT
);
CREATE INDEX announcements_send_at ON announcements (send_at);
