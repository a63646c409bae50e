//! D1 plumbing shared by every table: statements as plain data, bound and run against the
//! binding, with every failure (a thrown call or an error in the result) turned into [`DbError`].

use serde::de::DeserializeOwned;
use worker::js_sys::Array;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, D1PreparedStatement, D1Result};

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Integer(i64),
    /// Neurons and USD (estimates, spend, budgets).
    Real(f64),
    Null,
}

impl From<f64> for SqlValue {
    fn from(value: f64) -> Self {
        SqlValue::Real(value)
    }
}

impl From<Option<f64>> for SqlValue {
    fn from(value: Option<f64>) -> Self {
        value.map_or(SqlValue::Null, SqlValue::Real)
    }
}

impl From<&str> for SqlValue {
    fn from(value: &str) -> Self {
        SqlValue::Text(value.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(value: String) -> Self {
        SqlValue::Text(value)
    }
}

impl From<i64> for SqlValue {
    fn from(value: i64) -> Self {
        SqlValue::Integer(value)
    }
}

impl From<Option<i64>> for SqlValue {
    fn from(value: Option<i64>) -> Self {
        value.map_or(SqlValue::Null, SqlValue::Integer)
    }
}

impl From<Option<&str>> for SqlValue {
    fn from(value: Option<&str>) -> Self {
        value.map_or(SqlValue::Null, SqlValue::from)
    }
}

/// One statement and its parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Statement {
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Statement {
            sql: sql.into(),
            params,
        }
    }
}

/// A D1 failure, with the statement's intent for the logs.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The binding threw (bad SQL, constraint violation, D1 unavailable).
    #[error("database error while {action}: {source}")]
    Call {
        action: &'static str,
        #[source]
        source: worker::Error,
    },
    /// The call returned, but its result reports a failure.
    #[error("database error while {action}: {message}")]
    Result { action: &'static str, message: String },
    /// A row selected as JSON text did not decode into its row type.
    #[error("database error while {action}: unreadable row: {source}")]
    Decode {
        action: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

pub type DbResult<T> = Result<T, DbError>;

fn call_failed(action: &'static str) -> impl Fn(worker::Error) -> DbError {
    move |source| DbError::Call { action, source }
}

fn checked(result: D1Result, action: &'static str) -> DbResult<D1Result> {
    match result.error() {
        Some(message) => Err(DbError::Result { action, message }),
        None => Ok(result),
    }
}

/// The row a query selected as one JSON text (`SELECT json_object(…) AS j`), decoded by serde.
fn decode<T: DeserializeOwned>(text: &str, action: &'static str) -> DbResult<T> {
    serde_json::from_str(text).map_err(|source| DbError::Decode { action, source })
}

/// A row of a batch's result as its one JSON text column `j`.
#[derive(serde::Deserialize)]
struct JsonText {
    j: String,
}

/// The D1 binding, used only through [`Statement`]s.
pub struct Db {
    db: D1Database,
}

impl Db {
    pub fn new(db: D1Database) -> Self {
        Db { db }
    }

    fn prepare(&self, statement: &Statement, action: &'static str) -> DbResult<D1PreparedStatement> {
        let values: Vec<JsValue> = statement
            .params
            .iter()
            .map(|value| match value {
                SqlValue::Text(text) => JsValue::from_str(text),
                // Millisecond timestamps and page sizes are far inside f64's exact integer range.
                SqlValue::Integer(number) => JsValue::from_f64(*number as f64),
                SqlValue::Real(number) => JsValue::from_f64(*number),
                SqlValue::Null => JsValue::NULL,
            })
            .collect();
        self.db
            .prepare(statement.sql.as_str())
            .bind(&values)
            .map_err(call_failed(action))
    }

    /// Runs a statement for its effect.
    pub async fn run(&self, statement: Statement, action: &'static str) -> DbResult<()> {
        let result = self
            .prepare(&statement, action)?
            .run()
            .await
            .map_err(call_failed(action))?;
        checked(result, action).map(drop)
    }

    /// Runs a query and reads every row into `T`.
    pub async fn rows<T: DeserializeOwned>(&self, statement: Statement, action: &'static str) -> DbResult<Vec<T>> {
        let result = self
            .prepare(&statement, action)?
            .all()
            .await
            .map_err(call_failed(action))?;
        checked(result, action)?.results::<T>().map_err(call_failed(action))
    }

    /// Runs a query that selects each row as one JSON text (its only column) and decodes each:
    /// one string crosses per row (`raw()`: arrays, not objects), instead of an object whose
    /// fields are converted one by one.
    pub async fn json_rows<T: DeserializeOwned>(&self, statement: Statement, action: &'static str) -> DbResult<Vec<T>> {
        let rows = self
            .prepare(&statement, action)?
            .raw_js_value()
            .await
            .map_err(call_failed(action))?;
        rows.iter()
            .map(|row| {
                let text = row
                    .dyn_ref::<Array>()
                    .and_then(|columns| columns.get(0).as_string())
                    .ok_or_else(|| DbError::Result {
                        action,
                        message: "a row is not one JSON text column".to_string(),
                    })?;
                decode(&text, action)
            })
            .collect()
    }

    /// A count and a page of rows in one round trip (one batch): `SELECT COUNT(*) AS total …`
    /// first, then the rows, each selected as one JSON text named `j` (see [`Db::json_rows`]).
    pub async fn counted_rows<T: DeserializeOwned>(
        &self,
        count: Statement,
        page: Statement,
        action: &'static str,
    ) -> DbResult<(i64, Vec<T>)> {
        #[derive(serde::Deserialize)]
        struct Total {
            total: i64,
        }
        let prepared = vec![self.prepare(&count, action)?, self.prepare(&page, action)?];
        let mut results = self.db.batch(prepared).await.map_err(call_failed(action))?.into_iter();
        let (Some(count), Some(page)) = (results.next(), results.next()) else {
            return Err(DbError::Result {
                action,
                message: "the batch answered fewer results than statements".to_string(),
            });
        };
        let total = checked(count, action)?
            .results::<Total>()
            .map_err(call_failed(action))?
            .first()
            .map_or(0, |row| row.total);
        let rows = checked(page, action)?
            .results::<JsonText>()
            .map_err(call_failed(action))?
            .iter()
            .map(|row| decode(&row.j, action))
            .collect::<DbResult<Vec<T>>>()?;
        Ok((total, rows))
    }

    /// Runs `statements` and then `query` as one batch (one round trip, one transaction), and
    /// reads the query's rows: what the writes left, seen inside the same transaction.
    pub async fn batch_then_rows<T: DeserializeOwned>(
        &self,
        statements: Vec<Statement>,
        query: Statement,
        action: &'static str,
    ) -> DbResult<Vec<T>> {
        let prepared = statements
            .iter()
            .chain(std::iter::once(&query))
            .map(|statement| self.prepare(statement, action))
            .collect::<DbResult<Vec<_>>>()?;
        let mut results = self.db.batch(prepared).await.map_err(call_failed(action))?;
        let Some(last) = results.pop() else {
            return Err(DbError::Result {
                action,
                message: "the batch answered no results".to_string(),
            });
        };
        for result in results {
            checked(result, action)?;
        }
        checked(last, action)?.results::<T>().map_err(call_failed(action))
    }

    /// Runs statements as one batch, which D1 applies as a transaction: all or nothing.
    pub async fn batch(&self, statements: Vec<Statement>, action: &'static str) -> DbResult<()> {
        let prepared = statements
            .iter()
            .map(|statement| self.prepare(statement, action))
            .collect::<DbResult<Vec<_>>>()?;
        let results = self.db.batch(prepared).await.map_err(call_failed(action))?;
        for result in results {
            checked(result, action)?;
        }
        Ok(())
    }
}

/// SQLite for the SQL tests (D1 is SQLite): a fresh database with every migration, and a
/// statement's parameters as rusqlite binds them.
#[cfg(test)]
pub(crate) mod sqlite {
    use super::{SqlValue, Statement};
    use rusqlite::Connection;

    /// The migration files, in the order D1 applies them.
    pub(crate) fn migrations() -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files
    }

    pub(crate) fn apply(db: &Connection, file: &std::path::Path) {
        db.execute_batch(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("migration {file:?}: {e}"));
    }

    /// A fresh database with every migration, foreign keys enforced as D1 does.
    pub(crate) fn database() -> Connection {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        for file in migrations() {
            apply(&db, &file);
        }
        db
    }

    pub(crate) fn values(statement: &Statement) -> Vec<rusqlite::types::Value> {
        let value = |param: &SqlValue| match param {
            SqlValue::Text(text) => rusqlite::types::Value::Text(text.clone()),
            SqlValue::Integer(n) => rusqlite::types::Value::Integer(*n),
            SqlValue::Real(n) => rusqlite::types::Value::Real(*n),
            SqlValue::Null => rusqlite::types::Value::Null,
        };
        statement.params.iter().map(value).collect()
    }
}
