-- Values that belong to this installation and must survive restarts, e.g. the random key
-- that turns a reporter's id into a pseudonym nobody can reverse without the database.
CREATE TABLE installation (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
