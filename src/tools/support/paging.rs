//! Paging shared by the list tools: the limit/offset arguments and the page fields of results.

use serde::Serialize;
use serde_json::Value;

use super::args::{arg, tool_args, FieldKind};
use super::output::{json_text, result_schema};
use crate::catalog::{PAGE_LIMIT, PAGE_OFFSET};
use crate::jobs::Page;

tool_args! {
    /// The `limit` and `offset` arguments every list tool takes.
    pub struct PageArgs {
        limit: i64 = arg(
            format!("Items per page ({}).", PAGE_LIMIT.range_text()),
            FieldKind::Integer(PAGE_LIMIT),
        ),
        offset: i64 = arg("Items to skip, for paging.", FieldKind::Integer(PAGE_OFFSET)),
    }
}

impl PageArgs {
    pub fn page(&self) -> Page {
        Page {
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// Paging fields shared by both list results.
#[derive(Debug, PartialEq, Serialize)]
pub struct PageInfo {
    pub total_count: i64,
    pub returned_count: usize,
    pub has_more: bool,
    pub limit: i64,
    pub offset: i64,
}

impl PageInfo {
    pub fn new(page: Page, total_count: i64, returned_count: usize) -> Self {
        PageInfo {
            total_count,
            returned_count,
            has_more: page.offset + (returned_count as i64) < total_count,
            limit: page.limit,
            offset: page.offset,
        }
    }
}

/// A list result's output schema: the page fields, any `extra` fields, and the item array.
pub fn page_schema(items_key: &str, item: Value, extra: Value) -> Value {
    let mut properties = json_text(
        r#"{"total_count": {"type": "integer"}, "returned_count": {"type": "integer"},
            "has_more": {"type": "boolean"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}"#,
    );
    if let (Value::Object(fields), Value::Object(extra)) = (&mut properties, extra) {
        fields.extend(extra);
        let mut array = json_text(r#"{"type": "array"}"#);
        array["items"] = item;
        fields.insert(items_key.to_string(), array);
    }
    result_schema(properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_more_is_true_only_when_rows_remain_after_this_page() {
        let page = Page { limit: 10, offset: 0 };
        assert!(PageInfo::new(page, 25, 10).has_more);
        assert!(!PageInfo::new(Page { limit: 10, offset: 20 }, 25, 5).has_more);
        assert!(!PageInfo::new(Page { limit: 10, offset: 30 }, 25, 0).has_more);
        assert!(!PageInfo::new(page, 0, 0).has_more);
    }
}
