//! Accepted correspondences as SQL: a join of the two tables, or a union view
//! that renames the target's columns to the source's.

use super::MatchReport;

use crate::sql::quote_ident as quote;

/// A join of source and target on the accepted pair that is the report's
/// join path (else the first accepted pair); `None` without accepted pairs.
pub fn join_sql(report: &MatchReport, accepted: &[(String, String)]) -> Option<String> {
    let on = report
        .tables
        .join
        .as_ref()
        .and_then(|j| {
            accepted
                .iter()
                .find(|(s, t)| *s == j.source_column && *t == j.target_column)
        })
        .or_else(|| accepted.first())?;
    let others: Vec<String> = accepted
        .iter()
        .filter(|p| *p != on)
        .map(|(s, t)| {
            format!(
                "  -- also corresponding: s.{} ~ t.{}",
                one_line(&quote(s)),
                one_line(&quote(t))
            )
        })
        .collect();
    let mut sql = format!(
        "SELECT s.*, t.*\nFROM {} AS s\nJOIN {} AS t ON s.{} = t.{}",
        quote(&report.source),
        quote(&report.target),
        quote(&on.0),
        quote(&on.1)
    );
    for line in others {
        sql.push('\n');
        sql.push_str(&line);
    }
    sql.push_str("\nLIMIT 1000");
    Some(sql)
}

/// The rows of both tables in the accepted columns, target columns renamed to
/// the source's; `None` without accepted pairs.
pub fn union_sql(report: &MatchReport, accepted: &[(String, String)]) -> Option<String> {
    if accepted.is_empty() {
        return None;
    }
    let source: Vec<String> = accepted.iter().map(|(s, _)| quote(s)).collect();
    let target: Vec<String> = accepted
        .iter()
        .map(|(s, t)| format!("{} AS {}", quote(t), quote(s)))
        .collect();
    Some(format!(
        "SELECT {}, '{}' AS source_table FROM {}\nUNION ALL\nSELECT {}, '{}' AS source_table FROM {}",
        source.join(", "),
        report.source.replace('\'', "''"),
        quote(&report.source),
        target.join(", "),
        report.target.replace('\'', "''"),
        quote(&report.target)
    ))
}

/// Text safe inside a `--` comment: a line break (or any control character)
/// in a column name would end the comment and turn the rest into SQL, so
/// they are shown escaped (`\n`).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}
