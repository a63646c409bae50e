//! D1 plumbing shared by every table: statements as plain data, bound and run against the
//! binding, with every failure (a thrown call or an error in the result) turned into [`DbError`].

use serde::de::DeserializeOwned;
use worker::js_sys::{Array, Promise};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::types::{D1Database as D1DatabaseSys, D1Result as D1ResultSys};
use worker::{D1Database, D1PreparedStatement};

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

    /// A page query (`SELECT <list> …`) with `count`'s total in front of each row:
    /// `SELECT (<count>) AS total, <list> …`, the count's parameters first. SQLite evaluates the
    /// uncorrelated subquery once per statement, so a listing is one statement and one snapshot
    /// instead of a batch of two. An empty page carries no total: see [`Db::counted_rows`].
    pub fn page_with_total(count: &Statement, page: &Statement) -> Statement {
        let rest = page
            .sql
            .strip_prefix("SELECT ")
            .expect("a page query starts with SELECT");
        Statement {
            sql: format!("SELECT ({}) AS total, {rest}", count.sql),
            params: count.params.iter().chain(&page.params).cloned().collect(),
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

fn thrown(action: &'static str) -> impl Fn(JsValue) -> DbError {
    move |value| DbError::Call {
        action,
        source: worker::Error::from(value),
    }
}

/// What a call of the binding answers, once its promise settles.
async fn answer(promise: Result<Promise, JsValue>, action: &'static str) -> DbResult<JsValue> {
    crate::promise::awaited(promise.map_err(thrown(action))?)
        .await
        .map_err(thrown(action))
}

/// One statement's result (`D1Result`), if it reports no failure.
fn checked(result: JsValue, action: &'static str) -> DbResult<D1ResultSys> {
    let result: D1ResultSys = result.unchecked_into();
    match result.error().map_err(thrown(action))? {
        Some(message) => Err(DbError::Result { action, message }),
        None => Ok(result),
    }
}

/// A result's rows, each converted from its JS object.
fn rows_of<T: DeserializeOwned>(result: &D1ResultSys, action: &'static str) -> DbResult<Vec<T>> {
    let Some(rows) = result.results().map_err(thrown(action))? else {
        return Ok(Vec::new());
    };
    rows.iter()
        .map(|row| worker::serde_wasm_bindgen::from_value(row).map_err(|error| call_failed(action)(error.into())))
        .collect()
}

/// The row a query selected as one JSON text (`SELECT json_array(…) AS j`: serde reads a
/// struct from an array by field position), decoded by serde.
fn decode<T: DeserializeOwned>(text: &str, action: &'static str) -> DbResult<T> {
    serde_json::from_str(text).map_err(|source| DbError::Decode { action, source })
}

/// Column `index` of a `raw()` row: a JSON text, decoded.
fn json_column<T: DeserializeOwned>(columns: &Array, index: u32, action: &'static str) -> DbResult<T> {
    let text = columns.get(index).as_string().ok_or_else(|| DbError::Result {
        action,
        message: format!("column {index} of a row is not a JSON text"),
    })?;
    decode(&text, action)
}

/// Column `index` of a `raw()` row: an integer (a count; D1 answers it as a number).
fn integer_column(columns: &Array, index: u32, action: &'static str) -> DbResult<i64> {
    match columns.get(index).as_f64() {
        Some(number) if number.fract() == 0.0 => Ok(number as i64),
        _ => Err(DbError::Result {
            action,
            message: format!("column {index} of a row is not an integer"),
        }),
    }
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

    /// The statements' results, in order, from one batch (one round trip, one transaction).
    async fn run_batch(&self, statements: &[&Statement], action: &'static str) -> DbResult<Vec<JsValue>> {
        let prepared = statements
            .iter()
            .map(|statement| Ok(JsValue::from(self.prepare(statement, action)?.inner().clone())))
            .collect::<DbResult<Array>>()?;
        let database: &D1DatabaseSys = self.db.as_ref().unchecked_ref();
        let results = answer(database.batch(prepared), action).await?;
        let results: Array = results.dyn_into().map_err(thrown(action))?;
        if results.length() as usize != statements.len() {
            return Err(DbError::Result {
                action,
                message: format!(
                    "the batch answered {} results for {} statements",
                    results.length(),
                    statements.len()
                ),
            });
        }
        Ok(results.iter().collect())
    }

    /// Runs a statement for its effect.
    pub async fn run(&self, statement: Statement, action: &'static str) -> DbResult<()> {
        let prepared = self.prepare(&statement, action)?;
        checked(answer(prepared.inner().run(), action).await?, action).map(drop)
    }

    /// Runs a query and reads every row into `T`.
    pub async fn rows<T: DeserializeOwned>(&self, statement: Statement, action: &'static str) -> DbResult<Vec<T>> {
        let prepared = self.prepare(&statement, action)?;
        let result = checked(answer(prepared.inner().all(), action).await?, action)?;
        rows_of(&result, action)
    }

    /// Runs a query and reads its rows as arrays of column values (`raw()`), not objects.
    async fn raw_rows(&self, statement: &Statement, action: &'static str) -> DbResult<Vec<Array>> {
        let prepared = self.prepare(statement, action)?;
        let rows: Array = answer(prepared.inner().raw(), action)
            .await?
            .dyn_into()
            .map_err(thrown(action))?;
        rows.iter()
            .map(|row| {
                row.dyn_into::<Array>().map_err(|_| DbError::Result {
                    action,
                    message: "a row is not an array of columns".to_string(),
                })
            })
            .collect()
    }

    /// Runs a query that selects each row as one JSON text (its only column) and decodes each:
    /// one string crosses per row (`raw()`: arrays, not objects), instead of an object whose
    /// fields are converted one by one.
    pub async fn json_rows<T: DeserializeOwned>(&self, statement: Statement, action: &'static str) -> DbResult<Vec<T>> {
        self.raw_rows(&statement, action)
            .await?
            .iter()
            .map(|columns| json_column(columns, 0, action))
            .collect()
    }

    /// A page of rows, each selected as one JSON text (see [`Db::json_rows`]), and how many rows
    /// `count` (`SELECT COUNT(*) …`) finds in all: one statement
    /// ([`Statement::page_with_total`]), and a second, the count alone, only when the page is
    /// empty (past the last row, or nothing matches).
    pub async fn counted_rows<T: DeserializeOwned>(
        &self,
        count: Statement,
        page: Statement,
        action: &'static str,
    ) -> DbResult<(i64, Vec<T>)> {
        let rows = self
            .raw_rows(&Statement::page_with_total(&count, &page), action)
            .await?;
        let Some(first) = rows.first() else {
            let total = match self.raw_rows(&count, action).await?.first() {
                Some(columns) => integer_column(columns, 0, action)?,
                None => 0,
            };
            return Ok((total, Vec::new()));
        };
        let total = integer_column(first, 0, action)?;
        let rows = rows
            .iter()
            .map(|columns| json_column(columns, 1, action))
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
        let all: Vec<&Statement> = statements.iter().chain(std::iter::once(&query)).collect();
        let mut results = self.run_batch(&all, action).await?;
        let last = results.pop().expect("run_batch answers one result per statement");
        for result in results {
            checked(result, action)?;
        }
        rows_of(&checked(last, action)?, action)
    }

    /// Runs statements as one batch, which D1 applies as a transaction: all or nothing.
    pub async fn batch(&self, statements: Vec<Statement>, action: &'static str) -> DbResult<()> {
        let all: Vec<&Statement> = statements.iter().collect();
        for result in self.run_batch(&all, action).await? {
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
