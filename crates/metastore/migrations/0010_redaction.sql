-- Per-project redaction settings: `definition` is the redact crate's RedactionSpec as JSON (the
-- store does not interpret it). A project without a row gets the built-in rules. The key of
-- the `hash` action is the setting `redaction_key:<project id>`.
CREATE TABLE project_redaction (
    project_id  TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    definition  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
