-- Keys may expire: after `expires_at` (micros) a key is refused like a revoked one.
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
