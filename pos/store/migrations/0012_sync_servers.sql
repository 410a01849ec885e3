-- The central server's URLs, in order of preference: given at enrolment,
-- replaced by configuration (kind `servers`). The sync client uses one while
-- it answers and fails over to the next; the one in use shows in the status.

CREATE TABLE sync_servers (
    position INTEGER PRIMARY KEY,
    url      TEXT NOT NULL UNIQUE
);

INSERT INTO sync_servers (position, url) SELECT 0, server_url FROM sync_enrolment;

ALTER TABLE sync_status ADD COLUMN server_in_use TEXT;
