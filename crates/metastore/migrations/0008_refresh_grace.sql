-- Refresh-token rotation keeps the token it replaced and when, so a second refresh racing the
-- first (two browser tabs) can be answered within a short grace window instead of being taken
-- for a replay.
ALTER TABLE sessions ADD COLUMN previous_refresh_hash TEXT;
ALTER TABLE sessions ADD COLUMN rotated_at BIGINT;
