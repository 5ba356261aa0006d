//! How a contained dataset would be rebuilt from its container: a query over
//! B that selects exactly A's rows. A's value range in one of its columns is
//! tried as the predicate (`orders WHERE order_date BETWEEN …`; dates and
//! times first, then numbers, then text; at most [`MAX_TRIED`]), then all of
//! them together; a predicate is kept when B holds exactly A's row count in
//! it, which with A contained in B (as a multiset) means the query returns A.

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;

use super::candidates::Table;
use super::mapping::{Mapping, ValueKind, value_kind};
use crate::profile::ColumnProfile;
use crate::sql::{SqlEngine, SqlError, quote_ident};

/// Columns whose ranges are tried, at most (each try is a count over B; a
/// table of thousands of columns would otherwise take one query per column).
const MAX_TRIED: usize = 16;

/// A column's range as SQL literals, when its type has a literal form.
fn range_literals(column: &ColumnProfile) -> Option<(String, String)> {
    let (lo, hi) = (column.min.as_ref()?, column.max.as_ref()?);
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match value_kind(&column.data_type) {
        ValueKind::Number => {
            let ok = |s: &str| s.parse::<f64>().is_ok_and(f64::is_finite);
            (ok(lo) && ok(hi)).then(|| (lo.clone(), hi.clone()))
        }
        ValueKind::Text => Some((quote(lo), quote(hi))),
        ValueKind::Instant if column.data_type.starts_with("Date") => {
            Some((format!("DATE {}", quote(lo)), format!("DATE {}", quote(hi))))
        }
        ValueKind::Instant => Some((
            format!("TIMESTAMP {}", quote(lo)),
            format!("TIMESTAMP {}", quote(hi)),
        )),
        _ => None,
    }
}

/// Rows of `from` that `predicate` keeps.
async fn count(engine: &SqlEngine, from: &str, predicate: &str) -> Result<i64, SqlError> {
    let query = format!("SELECT count(*) FROM {from} WHERE {predicate}");
    let result = engine.query(&query).await?;
    Ok(result
        .batches
        .first()
        .filter(|b| b.num_rows() == 1)
        .and_then(|b| {
            b.column(0)
                .as_primitive_opt::<Int64Type>()
                .map(|c| c.value(0))
        })
        .unwrap_or(-1))
}

/// How A is read back from B.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rebuild {
    /// The SELECT list: B's columns under A's names.
    columns: String,
    /// The filter on B that keeps exactly A's rows; none when A is all of B.
    pub predicate: Option<String>,
}

/// One item of a SELECT list: `read` (a quoted column, or an expression
/// over one) under the name `to`, aliased only when it is not that column.
pub(crate) fn aliased(read: String, to: &str) -> String {
    if read == quote_ident(to) {
        read
    } else {
        format!("{read} AS {}", quote_ident(to))
    }
}

impl Rebuild {
    /// A rebuild selecting `items` (see [`aliased`]), filtered by `predicate`.
    pub fn new(items: &[String], predicate: Option<String>) -> Self {
        Self {
            columns: items.join(", "),
            predicate,
        }
    }

    /// The query that reads A's rows from `from` (B, or B at a version).
    pub fn sql(&self, from: &str) -> String {
        let select = format!("SELECT {} FROM {}", self.columns, quote_ident(from));
        match &self.predicate {
            Some(p) => format!("{select} WHERE {p}"),
            None => select,
        }
    }
}

/// How A is rebuilt from B, or `None` when no range predicate selects
/// exactly A's rows. The predicate is checked on the version of B that was
/// compared.
pub(crate) async fn rebuild_query(
    engine: &SqlEngine,
    a: &Table,
    b: &Table,
    mapping: &Mapping,
) -> Result<Option<Rebuild>, SqlError> {
    let (pa, pb) = (&a.profile, &b.profile);
    let items: Vec<String> = mapping
        .pairs
        .iter()
        .map(|&(i, j)| aliased(quote_ident(&pb.columns[j].name), &pa.columns[i].name))
        .collect();
    let query = |predicate: Option<&str>| Rebuild::new(&items, predicate.map(str::to_string));
    if pa.rows == pb.rows {
        return Ok(Some(query(None)));
    }
    let pinned = quote_ident(&format!("{}@{}", pb.name, pb.version));
    let mut tried = Vec::new();
    // Dates and times first (a dataset cut by period is the common case), then numbers, then text.
    let mut order = mapping.pairs.clone();
    order.sort_by_key(|&(i, _)| match value_kind(&pa.columns[i].data_type) {
        ValueKind::Instant => 0,
        ValueKind::Number => 1,
        _ => 2,
    });
    for &(i, j) in &order {
        if tried.len() == MAX_TRIED {
            break;
        }
        let (ca, cb) = (&pa.columns[i], &pb.columns[j]);
        // A range that leaves out none of B, or nulls of A (BETWEEN drops nulls), selects nothing useful.
        if ca.nulls > 0 || (ca.min == cb.min && ca.max == cb.max) {
            continue;
        }
        let Some((lo, hi)) = range_literals(ca) else {
            continue;
        };
        let predicate = format!("{} BETWEEN {lo} AND {hi}", quote_ident(&cb.name));
        if count(engine, &pinned, &predicate).await? == pa.rows as i64 {
            return Ok(Some(query(Some(&predicate))));
        }
        tried.push(predicate);
    }
    if tried.len() > 1 {
        let all = tried.join(" AND ");
        if count(engine, &pinned, &all).await? == pa.rows as i64 {
            return Ok(Some(query(Some(&all))));
        }
    }
    Ok(None)
}
