-- Sessions open beyond their committee (issue 5): a training for a women's task force, a
-- public forum. 'focal_points': the focal points are invited too; 'subscribers': so are the
-- people who follow alerts for the committee's commune. Outsiders get invitations like members.
ALTER TABLE sessions ADD COLUMN open_to TEXT CHECK (open_to IN ('focal_points', 'subscribers'));
