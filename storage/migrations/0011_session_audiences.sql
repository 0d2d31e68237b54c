-- Open sessions reach a chosen audience (issue 5): the members of another committee, the focal
-- points, or the subscribers of a chosen region or commune (before: only the committee's own
-- commune). SQLite cannot change a CHECK, so open_to is renamed away, recreated with the new
-- values, copied and dropped.
ALTER TABLE sessions RENAME COLUMN open_to TO open_to_before;
ALTER TABLE sessions ADD COLUMN open_to TEXT
    CHECK (open_to IN ('committee', 'focal_points', 'subscribers'));
-- 'subscribers': the area whose subscribers are invited (a place code; NULL: all Mali)
ALTER TABLE sessions ADD COLUMN open_area TEXT;
-- 'committee': the other committee whose members are invited
ALTER TABLE sessions ADD COLUMN open_committee INTEGER REFERENCES committees (id) ON DELETE SET NULL;
UPDATE sessions SET open_to = open_to_before;
UPDATE sessions SET open_area = (SELECT commune FROM committees c WHERE c.id = sessions.committee_id)
    WHERE open_to = 'subscribers';
ALTER TABLE sessions DROP COLUMN open_to_before;
-- /sessions finds open upcoming sessions for anyone
CREATE INDEX sessions_open ON sessions (starts_at) WHERE open_to IS NOT NULL;
