-- A project's saved searches and dashboards. `definition` is the object as JSON (the API
-- checks it); `shared` makes it visible to the whole project, not only its owner.
CREATE TABLE project_documents (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL,
    shared      BOOLEAN NOT NULL,
    definition  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX project_documents_kind ON project_documents(project_id, kind, name);
