-- Per-project processing rules, in order. `definition` is the rule as JSON (the pipeline
-- crate's RuleSpec); the store does not interpret it.
CREATE TABLE pipeline_rules (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    definition  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX pipeline_rules_project ON pipeline_rules(project_id, position);

-- Bumped in the same transaction as every change to a project's rules: processors poll this
-- small table to learn, within a second, which projects to reload.
CREATE TABLE pipeline_revisions (
    project_id  TEXT PRIMARY KEY,
    revision    BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
