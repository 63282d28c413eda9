//! Documents users keep in a project: saved searches and dashboards, one table for both.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::sql::{params, Row, SqlDriver};
use crate::store::SqlMetaStore;
use crate::MetaStoreError;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    SavedSearch,
    Dashboard,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SavedSearch => "saved_search",
            Self::Dashboard => "dashboard",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDocument {
    pub id: String,
    pub project_id: String,
    pub kind: DocumentKind,
    /// Who created it (`user:<id>` or `key:<prefix>`).
    pub owner: String,
    pub name: String,
    /// Visible to every member of the project, not only the owner.
    pub shared: bool,
    /// The object as JSON.
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The documents part of the metadata store (a supertrait of [`crate::MetaStore`]).
#[async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// Inserts or replaces a document (by id, within its project and kind).
    async fn save_document(&self, doc: &ProjectDocument) -> Result<(), MetaStoreError>;
    /// A project's documents of one kind, by name.
    async fn documents(&self, project_id: &str, kind: DocumentKind) -> Result<Vec<ProjectDocument>, MetaStoreError>;
    async fn document(&self, project_id: &str, kind: DocumentKind, id: &str) -> Result<Option<ProjectDocument>, MetaStoreError>;
    async fn delete_document(&self, project_id: &str, kind: DocumentKind, id: &str) -> Result<bool, MetaStoreError>;
}

fn document(mut r: Row) -> Result<ProjectDocument, MetaStoreError> {
    let id = r.text()?;
    let project_id = r.text()?;
    let kind = match r.text()?.as_str() {
        "saved_search" => DocumentKind::SavedSearch,
        "dashboard" => DocumentKind::Dashboard,
        other => return Err(MetaStoreError::Unavailable(format!("unknown document kind {other:?}"))),
    };
    Ok(ProjectDocument {
        id,
        project_id,
        kind,
        owner: r.text()?,
        name: r.text()?,
        shared: r.bool()?,
        definition: r.text()?,
        created_at: r.int()?,
        updated_at: r.int()?,
    })
}

#[async_trait]
impl<D: SqlDriver> DocumentStore for SqlMetaStore<D> {
    async fn save_document(&self, d: &ProjectDocument) -> Result<(), MetaStoreError> {
        let changed = self
            .exec(
                "INSERT INTO project_documents (id, project_id, kind, owner, name, shared, definition, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, shared = excluded.shared, definition = excluded.definition, \
                 updated_at = excluded.updated_at \
                 WHERE project_documents.project_id = excluded.project_id AND project_documents.kind = excluded.kind",
                params![&d.id, &d.project_id, d.kind.as_str(), &d.owner, &d.name, d.shared, &d.definition, d.created_at, d.updated_at],
            )
            .await?;
        if changed == 0 {
            return Err(MetaStoreError::Conflict(format!("document {} belongs to another project", d.id)));
        }
        Ok(())
    }

    async fn documents(&self, project_id: &str, kind: DocumentKind) -> Result<Vec<ProjectDocument>, MetaStoreError> {
        self.all(
            "SELECT id, project_id, kind, owner, name, shared, definition, created_at, updated_at FROM project_documents \
             WHERE project_id = ?1 AND kind = ?2 ORDER BY name, id",
            params![project_id, kind.as_str()],
            document,
        )
        .await
    }

    async fn document(&self, project_id: &str, kind: DocumentKind, id: &str) -> Result<Option<ProjectDocument>, MetaStoreError> {
        self.one(
            "SELECT id, project_id, kind, owner, name, shared, definition, created_at, updated_at FROM project_documents \
             WHERE project_id = ?1 AND kind = ?2 AND id = ?3",
            params![project_id, kind.as_str(), id],
            document,
        )
        .await
    }

    async fn delete_document(&self, project_id: &str, kind: DocumentKind, id: &str) -> Result<bool, MetaStoreError> {
        let n = self.exec("DELETE FROM project_documents WHERE project_id = ?1 AND kind = ?2 AND id = ?3", params![project_id, kind.as_str(), id]).await?;
        Ok(n > 0)
    }
}
