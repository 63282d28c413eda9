//! The SQLite driver, for standalone mode: one file in the data directory, WAL journal, one
//! connection behind a mutex (metadata traffic is light), calls on `spawn_blocking`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, Connection, ErrorCode, OptionalExtension};

use crate::sql::{Row, SqlDriver, SqlValue, Statement};
use crate::store::SqlMetaStore;
use crate::{MetaStoreError, MIGRATIONS};

/// SQLite as the metadata store.
pub type SqliteMetaStore = SqlMetaStore<Sqlite>;

/// A SQLite database file.
#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
}

fn db_err(e: rusqlite::Error) -> MetaStoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        if f.code == ErrorCode::ConstraintViolation {
            return MetaStoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()));
        }
    }
    MetaStoreError::Unavailable(e.to_string())
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value};
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Owned(Value::Null),
            SqlValue::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            SqlValue::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn column(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Int(i),
        // Only integers, text and NULL are ever written; a REAL would come from outside this code.
        ValueRef::Real(f) => SqlValue::Text(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

impl SqliteMetaStore {
    /// Opens (or creates) the database file.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub fn open(path: &Path) -> Result<Self, MetaStoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| MetaStoreError::Config(format!("{}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(db_err)?;
        // WAL: readers don't block the writer; synchronous=FULL: a committed change survives power loss.
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;")
            .map_err(db_err)?;
        Ok(SqlMetaStore::with_driver(Sqlite { conn: Arc::new(Mutex::new(conn)) }))
    }
}

impl Sqlite {
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, MetaStoreError> + Send + 'static,
    ) -> Result<T, MetaStoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| MetaStoreError::Unavailable(format!("sqlite task failed: {e}")))?
    }
}

#[async_trait]
impl SqlDriver for Sqlite {
    async fn query(&self, sql: &'static str, params: Vec<SqlValue>) -> Result<Vec<Row>, MetaStoreError> {
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
            let width = stmt.column_count();
            let mut rows = stmt.query(params_from_iter(params.iter())).map_err(db_err)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(db_err)? {
                let mut values = Vec::with_capacity(width);
                for i in 0..width {
                    values.push(column(r.get_ref(i).map_err(db_err)?));
                }
                out.push(Row::new(values));
            }
            Ok(out)
        })
        .await
    }

    async fn transaction(&self, statements: Vec<Statement>) -> Result<Vec<u64>, MetaStoreError> {
        self.with(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let mut changed = Vec::with_capacity(statements.len());
            for (sql, params) in &statements {
                let n = tx.prepare_cached(sql).and_then(|mut s| s.execute(params_from_iter(params.iter()))).map_err(db_err)?;
                changed.push(n as u64);
            }
            tx.commit().map_err(db_err)?;
            Ok(changed)
        })
        .await
    }

    async fn migrate(&self) -> Result<u32, MetaStoreError> {
        self.with(|conn| {
            conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
                .map_err(db_err)?;
            let mut current = 0;
            for m in MIGRATIONS {
                // IMMEDIATE: takes the write lock first, so two processes on one file migrate one at a time.
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db_err)?;
                let done: Option<i64> = tx
                    .query_row("SELECT 1 FROM schema_migrations WHERE version = ?1", [m.version], |r| r.get(0))
                    .optional()
                    .map_err(db_err)?;
                if done.is_none() {
                    tx.execute_batch(m.sql).map_err(|e| MetaStoreError::Migration { version: m.version, message: e.to_string() })?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                        rusqlite::params![m.version, m.name, crate::now()],
                    )
                    .map_err(db_err)?;
                    tracing::info!(version = m.version, name = m.name, "applied metadata migration");
                }
                tx.commit().map_err(db_err)?;
                current = m.version;
            }
            Ok(current)
        })
        .await
    }
}
