-- Prefixes of keys that disappeared with their project: the revocation poll of every running
-- gateway must learn about them as it learns about revoked keys, though their rows are gone.
CREATE TABLE deleted_api_keys (
    prefix      TEXT PRIMARY KEY,
    deleted_at  BIGINT NOT NULL
);
CREATE INDEX deleted_api_keys_at ON deleted_api_keys(deleted_at);
