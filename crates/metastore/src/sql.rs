//! The one thing PostgreSQL and SQLite differ in for this store: how a statement is sent.
//!
//! Statements are written once, in the SQL both accept, with `?1`-style placeholders (the
//! PostgreSQL driver rewrites them to `$1`). Values cross the boundary as [`SqlValue`], so the
//! store's logic ([`crate::store`]) is written once and runs unchanged on both drivers.

use async_trait::async_trait;

use crate::MetaStoreError;

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

impl From<&str> for SqlValue {
    fn from(s: &str) -> Self {
        SqlValue::Text(s.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(s: String) -> Self {
        SqlValue::Text(s)
    }
}

impl From<&String> for SqlValue {
    fn from(s: &String) -> Self {
        SqlValue::Text(s.clone())
    }
}

impl From<i64> for SqlValue {
    fn from(i: i64) -> Self {
        SqlValue::Int(i)
    }
}

impl From<bool> for SqlValue {
    fn from(b: bool) -> Self {
        SqlValue::Bool(b)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// Builds a parameter list: `params![a, b]`.
macro_rules! params {
    ($($v:expr),* $(,)?) => { vec![$($crate::sql::SqlValue::from($v)),*] };
}
pub(crate) use params;

/// One statement of a transaction.
pub type Statement = (&'static str, Vec<SqlValue>);

/// A result row, read column by column in `SELECT` order.
#[derive(Debug)]
pub struct Row {
    values: std::vec::IntoIter<SqlValue>,
}

impl Row {
    pub fn new(values: Vec<SqlValue>) -> Self {
        Self { values: values.into_iter() }
    }

    fn next(&mut self) -> Result<SqlValue, MetaStoreError> {
        self.values.next().ok_or_else(|| MetaStoreError::Unavailable("fewer columns than expected".into()))
    }

    fn mismatch(what: &str, got: &SqlValue) -> MetaStoreError {
        MetaStoreError::Unavailable(format!("expected {what} column, found {got:?}"))
    }

    pub fn text(&mut self) -> Result<String, MetaStoreError> {
        self.opt_text()?.ok_or_else(|| Self::mismatch("a text", &SqlValue::Null))
    }

    pub fn opt_text(&mut self) -> Result<Option<String>, MetaStoreError> {
        match self.next()? {
            SqlValue::Text(s) => Ok(Some(s)),
            SqlValue::Null => Ok(None),
            other => Err(Self::mismatch("a text", &other)),
        }
    }

    pub fn int(&mut self) -> Result<i64, MetaStoreError> {
        self.opt_int()?.ok_or_else(|| Self::mismatch("an integer", &SqlValue::Null))
    }

    pub fn opt_int(&mut self) -> Result<Option<i64>, MetaStoreError> {
        match self.next()? {
            SqlValue::Int(i) => Ok(Some(i)),
            SqlValue::Null => Ok(None),
            other => Err(Self::mismatch("an integer", &other)),
        }
    }

    /// SQLite has no boolean type: it stores 0/1 integers.
    pub fn bool(&mut self) -> Result<bool, MetaStoreError> {
        match self.next()? {
            SqlValue::Bool(b) => Ok(b),
            SqlValue::Int(i) => Ok(i != 0),
            other => Err(Self::mismatch("a boolean", &other)),
        }
    }
}

/// Sends statements to one database.
#[async_trait]
pub trait SqlDriver: Send + Sync + 'static {
    /// Rows of a `SELECT`.
    async fn query(&self, sql: &'static str, params: Vec<SqlValue>) -> Result<Vec<Row>, MetaStoreError>;

    /// Runs statements in one transaction; returns the rows each changed. A unique-key violation
    /// is [`MetaStoreError::Conflict`].
    async fn transaction(&self, statements: Vec<Statement>) -> Result<Vec<u64>, MetaStoreError>;

    /// Applies pending [`crate::MIGRATIONS`], one migrator at a time; returns the version now in place.
    async fn migrate(&self) -> Result<u32, MetaStoreError>;
}
