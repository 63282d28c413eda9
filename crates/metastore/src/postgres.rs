//! The PostgreSQL driver, through a deadpool-postgres pool.

use std::error::Error;

use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

use crate::sql::{Row, SqlDriver, SqlValue, Statement};
use crate::store::SqlMetaStore;
use crate::{MetaStoreError, MIGRATIONS};

/// PostgreSQL as the metadata store.
pub type PostgresMetaStore = SqlMetaStore<Postgres>;

/// A PostgreSQL connection pool.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
}

fn db_err(e: tokio_postgres::Error) -> MetaStoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        return MetaStoreError::Conflict(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned()));
    }
    MetaStoreError::Unavailable(e.to_string())
}

fn pool_err(e: deadpool_postgres::PoolError) -> MetaStoreError {
    MetaStoreError::Unavailable(e.to_string())
}

impl ToSql for SqlValue {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            SqlValue::Int(i) => i.to_sql(ty, out),
            SqlValue::Text(s) => s.to_sql(ty, out),
            SqlValue::Bool(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`; NULL fits any column.
        true
    }

    to_sql_checked!();
}

fn column(row: &tokio_postgres::Row, i: usize) -> Result<SqlValue, MetaStoreError> {
    let ty = row.columns()[i].type_();
    let err = |e: tokio_postgres::Error| MetaStoreError::Unavailable(e.to_string());
    Ok(if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i).map_err(err)?.map_or(SqlValue::Null, SqlValue::Int)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i).map_err(err)?.map_or(SqlValue::Null, |v| SqlValue::Int(i64::from(v)))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i).map_err(err)?.map_or(SqlValue::Null, SqlValue::Bool)
    } else {
        row.try_get::<_, Option<String>>(i).map_err(err)?.map_or(SqlValue::Null, SqlValue::Text)
    })
}

/// `?1` → `$1`: statements are written once in SQLite's placeholder style.
fn dollar(sql: &str) -> String {
    sql.replace('?', "$")
}

/// PostgreSQL's `sslmode`, with libpq's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP.
    #[default]
    Disable,
    /// TLS when the server offers it, plain otherwise; the certificate is not checked.
    Prefer,
    /// TLS or no connection; the certificate is checked only when a CA is given (as libpq
    /// does with a root certificate file).
    Require,
    /// TLS, and the certificate must be signed by the CA.
    VerifyCa,
    /// TLS, signed by the CA and issued for the host connected to.
    VerifyFull,
}

/// How connections to PostgreSQL are secured.
#[derive(Debug, Clone, Default)]
pub struct PgTls {
    pub mode: SslMode,
    /// `(setting, path)` of the CA file.
    pub ca: Option<(String, String)>,
}

impl PostgresMetaStore {
    /// Builds a pool for `url` over plain TCP; connections are opened on first use.
    ///
    /// # Errors
    /// When the URL does not parse.
    pub fn new(url: &str, pool_size: usize) -> Result<Self, MetaStoreError> {
        Self::with_tls(url, pool_size, &PgTls::default())
    }

    /// Builds a pool for `url` with `tls`; connections are opened on first use. `tls.mode`
    /// decides, whatever `sslmode` the URL carries.
    ///
    /// # Errors
    /// When the URL does not parse or the CA file cannot be used.
    pub fn with_tls(url: &str, pool_size: usize, tls: &PgTls) -> Result<Self, MetaStoreError> {
        use nexuslog_tls::client::{client_config, ClientFiles, ServerCheck};
        let mut pg: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| MetaStoreError::Config(e.to_string()))?;
        let check = match (tls.mode, &tls.ca) {
            (SslMode::Disable, _) => None,
            (SslMode::Prefer, _) | (SslMode::Require, None) => Some(ServerCheck::Nothing),
            (SslMode::Require | SslMode::VerifyCa, _) => Some(ServerCheck::ChainOnly),
            (SslMode::VerifyFull, _) => Some(ServerCheck::Full),
        };
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = match check {
            None => {
                pg.ssl_mode(tokio_postgres::config::SslMode::Disable);
                Manager::from_config(pg, NoTls, manager_config)
            }
            Some(check) => {
                let files = ClientFiles { ca: tls.ca.clone(), ..ClientFiles::default() };
                let rustls = client_config(&files, check).map_err(|e| MetaStoreError::Config(e.to_string()))?;
                let mode = if tls.mode == SslMode::Prefer { tokio_postgres::config::SslMode::Prefer } else { tokio_postgres::config::SslMode::Require };
                pg.ssl_mode(mode);
                Manager::from_config(pg, tokio_postgres_rustls::MakeRustlsConnect::new(rustls), manager_config)
            }
        };
        let pool = Pool::builder(manager).max_size(pool_size).build().map_err(|e| MetaStoreError::Config(e.to_string()))?;
        Ok(SqlMetaStore::with_driver(Postgres { pool }))
    }
}

fn refs(params: &[SqlValue]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

#[async_trait]
impl SqlDriver for Postgres {
    async fn query(&self, sql: &'static str, params: Vec<SqlValue>) -> Result<Vec<Row>, MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let stmt = client.prepare_cached(&dollar(sql)).await.map_err(db_err)?;
        let rows = client.query(&stmt, &refs(&params)).await.map_err(db_err)?;
        rows.iter().map(|r| (0..r.len()).map(|i| column(r, i)).collect::<Result<Vec<_>, _>>().map(Row::new)).collect()
    }

    async fn transaction(&self, statements: Vec<Statement>) -> Result<Vec<u64>, MetaStoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await.map_err(db_err)?;
        let mut changed = Vec::with_capacity(statements.len());
        for (sql, params) in &statements {
            let stmt = tx.prepare_cached(&dollar(sql)).await.map_err(db_err)?;
            changed.push(tx.execute(&stmt, &refs(params)).await.map_err(db_err)?);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(changed)
    }

    async fn migrate(&self) -> Result<u32, MetaStoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        // Even `CREATE TABLE IF NOT EXISTS` races when replicas start together (both pass the
        // existence check, one fails on the catalog's unique index), so it runs under the lock too.
        let tx = client.transaction().await.map_err(db_err)?;
        tx.execute("SELECT pg_advisory_xact_lock(7215001)", &[]).await.map_err(db_err)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        let mut current = 0u32;
        for m in MIGRATIONS {
            let tx = client.transaction().await.map_err(db_err)?;
            // One migrator at a time across replicas: a transaction-scoped advisory lock.
            tx.execute("SELECT pg_advisory_xact_lock(7215001)", &[]).await.map_err(db_err)?;
            let version = i32::try_from(m.version).map_err(|e| MetaStoreError::Config(e.to_string()))?;
            let done = tx.query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[&version]).await.map_err(db_err)?.is_some();
            if !done {
                tx.batch_execute(m.sql).await.map_err(|e| MetaStoreError::Migration { version: m.version, message: e.to_string() })?;
                tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", &[&version, &m.name, &crate::now()])
                    .await
                    .map_err(db_err)?;
                tracing::info!(version = m.version, name = m.name, "applied metadata migration");
            }
            tx.commit().await.map_err(db_err)?;
            current = m.version;
        }
        Ok(current)
    }
}
