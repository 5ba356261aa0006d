//! Redundancy: a planted lake whose every duplicate, containment and overlap
//! is known, found by `lakebook redundancy` (sampled and exact), stored per
//! version and reused after an ingest.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::support::TestLake;

/// One order: (id, customer, date, amount, quantity).
pub(crate) type Order = (u32, String, String, f64, u32);

/// 200 orders, one every ~1.8 days of 2024 (ids 1..=50 fall in the first quarter).
pub(crate) fn orders() -> Vec<Order> {
    let customers = [
        "ada", "bo", "cy", "di", "ed", "flo", "gus", "hal", "ivy", "jo",
    ];
    (1..=200u32)
        .map(|id| {
            let day = (id - 1) * 9 / 5; // 0..=358
            let date = date_2024(day);
            let amount = f64::from(id * 37 % 1000) / 4.0 + 0.1;
            (
                id,
                customers[(id % 10) as usize].to_string(),
                date,
                amount,
                id % 7 + 1,
            )
        })
        .collect()
}

/// Day `day` (0-based) of 2024 as YYYY-MM-DD.
fn date_2024(day: u32) -> String {
    let lengths = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut rest = day;
    for (m, len) in lengths.iter().enumerate() {
        if rest < *len {
            return format!("2024-{:02}-{:02}", m + 1, rest + 1);
        }
        rest -= len;
    }
    "2024-12-31".to_string()
}

/// Rows as CSV under the given header, each row's fields in `order`
/// (indices into the order tuple: 0 id, 1 customer, 2 date, 3 amount, 4 quantity).
pub(crate) fn csv(header: &[&str], order: &[usize], rows: &[Order]) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        let fields: Vec<String> = order
            .iter()
            .map(|&i| match i {
                0 => r.0.to_string(),
                1 => r.1.clone(),
                2 => r.2.clone(),
                3 => r.3.to_string(),
                _ => r.4.to_string(),
            })
            .collect();
        let _ = writeln!(out, "{}", fields.join(","));
    }
    out
}

pub(crate) const NAMES: [&str; 5] = ["order_id", "customer", "order_date", "amount", "quantity"];

/// The orders with every 20th amount changed (95% of the rows unchanged).
pub(crate) fn near_copy(all: &[Order]) -> Vec<Order> {
    all.iter()
        .map(|r| {
            let mut r = r.clone();
            if r.0 % 20 == 0 {
                r.3 += 1000.0;
            }
            r
        })
        .collect()
}

/// Orders under other column names (R-style `Order.ID`), columns reordered.
pub(crate) fn renamed_csv(rows: &[Order]) -> String {
    csv(
        &["Quantity", "Order.ID", "Amount", "Customer", "Order.Date"],
        &[4, 0, 3, 1, 2],
        rows,
    )
}

/// Orders under their own names, columns reordered (the date first).
pub(crate) fn reordered_csv(rows: &[Order]) -> String {
    csv(
        &["order_date", "order_id", "amount", "customer", "quantity"],
        &[2, 0, 3, 1, 4],
        rows,
    )
}

/// The planted lake's source files.
fn planted(t: &TestLake) -> Result<Vec<PathBuf>> {
    let all = orders();
    let mut shuffled = all.clone();
    // A fixed permutation: rows in another order.
    shuffled.sort_by_key(|r| (r.0 * 73) % 211);
    let near = near_copy(&all);
    let q1: Vec<Order> = all.iter().filter(|r| r.0 <= 50).cloned().collect();
    let odd: Vec<Order> = all.iter().filter(|r| r.0 % 2 == 1).cloned().collect();
    let twice: Vec<Order> = all
        .iter()
        .filter(|r| (61..=70).contains(&r.0))
        .flat_map(|r| [r.clone(), r.clone()])
        .collect();
    let decoys: Vec<Order> = all
        .iter()
        .map(|r| {
            let date = r.2.replacen("2024", "2023", 1);
            (r.0 + 1000, r.1.clone(), date, r.3, r.4)
        })
        .collect();
    let people: String = (0..50).fold("name,age,city\n".to_string(), |mut s, i| {
        let _ = writeln!(
            s,
            "p{i},{},{}",
            20 + i % 40,
            ["oslo", "rome", "lima"][i % 3]
        );
        s
    });
    Ok(vec![
        t.file("orders.csv", csv(&NAMES, &[0, 1, 2, 3, 4], &all))?,
        // The same rows shuffled, columns reordered and named another way.
        t.file("orders_copy.csv", renamed_csv(&shuffled))?,
        t.file("orders_q1.csv", reordered_csv(&q1))?,
        t.file("orders_near.csv", csv(&NAMES, &[0, 1, 2, 3, 4], &near))?,
        t.file("orders_2023.csv", csv(&NAMES, &[0, 1, 2, 3, 4], &decoys))?,
        // Half the rows under other names.
        t.file(
            "clients_orders.csv",
            csv(
                &["id", "client", "day", "total", "qty"],
                &[0, 1, 2, 3, 4],
                &odd,
            ),
        )?,
        t.file("orders_twice.csv", csv(&NAMES, &[0, 1, 2, 3, 4], &twice))?,
        t.file("people.csv", people)?,
    ])
}

/// The (a, relation, b) of every reported pair.
fn triples(report: &Value) -> Result<BTreeSet<(String, String, String)>> {
    let pairs = report["pairs"].as_array().context("pairs")?;
    Ok(pairs
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (s("a"), s("relation"), s("b"))
        })
        .collect())
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, r, b)| (a.to_string(), r.to_string(), b.to_string()))
        .collect()
}

/// The pair a→b of a report.
fn pair<'a>(report: &'a Value, a: &str, b: &str) -> Result<&'a Value> {
    report["pairs"]
        .as_array()
        .context("pairs")?
        .iter()
        .find(|p| p["a"] == a && p["b"] == b)
        .with_context(|| format!("no pair {a} → {b}"))
}

#[tokio::test]
async fn planted_duplicates_containments_and_overlaps_are_found_exactly() -> Result<()> {
    let t = TestLake::new()?;
    let files = planted(&t)?;
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    t.ingest(&paths, &[]).await?;

    let exact: Value = serde_json::from_str(
        &t.run(&["redundancy", "--exact", "--format", "json"])
            .await?,
    )?;
    let want = set(&[
        ("orders", "duplicate", "orders_copy"),
        ("orders_q1", "contained", "orders"),
        ("orders_q1", "contained", "orders_copy"),
        ("clients_orders", "contained", "orders"),
        ("clients_orders", "contained", "orders_copy"),
        ("clients_orders", "contained", "orders_near"),
        ("orders", "overlapping", "orders_near"),
        ("orders_copy", "overlapping", "orders_near"),
        ("orders_near", "overlapping", "orders"),
        ("orders_near", "overlapping", "orders_copy"),
        ("orders_q1", "overlapping", "orders_near"),
        ("orders_twice", "overlapping", "orders"),
        ("orders_twice", "overlapping", "orders_copy"),
        ("orders_twice", "overlapping", "orders_near"),
    ]);
    assert_eq!(triples(&exact)?, want, "{exact:#}");

    // Shares, mappings and verdicts of a few pairs, whole.
    let dup = pair(&exact, "orders", "orders_copy")?;
    assert_eq!(
        (
            dup["share"].as_f64(),
            dup["multiset_share"].as_f64(),
            &dup["mapped_by"],
            &dup["stage"]
        ),
        (
            Some(1.0),
            Some(1.0),
            &Value::from("normalised_names"),
            &Value::from("exact")
        )
    );
    assert_eq!(
        dup["mapping"],
        serde_json::json!([
            ["order_id", "Order.ID"],
            ["customer", "Customer"],
            ["order_date", "Order.Date"],
            ["amount", "Amount"],
            ["quantity", "Quantity"]
        ])
    );
    let renamed = pair(&exact, "clients_orders", "orders")?;
    assert_eq!(renamed["mapped_by"], "matcher");
    assert_eq!(
        renamed["mapping"],
        serde_json::json!([
            ["id", "order_id"],
            ["client", "customer"],
            ["day", "order_date"],
            ["total", "amount"],
            ["qty", "quantity"]
        ])
    );
    // A selection is rebuilt by the range of one of its columns, checked on
    // the container; every other row of orders has a later date.
    let q1 = pair(&exact, "orders_q1", "orders")?;
    let rebuild = q1["rebuild"].as_str().context("a rebuild query")?;
    assert_eq!(
        rebuild,
        "SELECT \"order_date\", \"order_id\", \"amount\", \"customer\", \"quantity\" FROM \"orders\" \
         WHERE \"order_date\" BETWEEN DATE '2024-01-01' AND DATE '2024-03-29'"
    );
    let rebuilt = t
        .sql(&format!(
            "SELECT count(*) AS n, sum(order_id) AS ids FROM ({rebuild})"
        ))
        .await?;
    assert_eq!(rebuilt, vec![serde_json::json!({"n": 50, "ids": 1275})]);
    // Odd ids: no range selects them.
    assert_eq!(renamed["rebuild"], Value::Null);
    assert_eq!(
        dup["rebuild"],
        "SELECT \"Order.ID\" AS \"order_id\", \"Customer\" AS \"customer\", \"Order.Date\" AS \"order_date\", \
         \"Amount\" AS \"amount\", \"Quantity\" AS \"quantity\" FROM \"orders_copy\""
    );
    let near = pair(&exact, "orders_near", "orders")?;
    assert_eq!(near["share"].as_f64(), Some(0.95));
    assert_eq!(
        pair(&exact, "orders_q1", "orders_near")?["share"].as_f64(),
        Some(0.96)
    );
    // Ten rows twice each: every row is in orders (the set verdict), but only
    // one copy of each (the multiset verdict), so not contained.
    let twice = pair(&exact, "orders_twice", "orders")?;
    assert_eq!(
        (
            twice["share"].as_f64(),
            twice["multiset_share"].as_f64(),
            &twice["set_contained"]
        ),
        (Some(1.0), Some(0.5), &Value::Bool(true))
    );

    // Stages: each keeps no more pairs than the one before, and statistics
    // drop the decoys (another year, other ids).
    let stages = exact["stages"].as_array().context("stages")?;
    let names: Vec<&str> = stages.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        ["profiles", "schema", "statistics", "content", "exact"]
    );
    let counts: Vec<u64> = stages
        .iter()
        .filter_map(|s| s["candidates"].as_u64())
        .collect();
    assert_eq!(counts[0], 8);
    assert!(
        counts[1] >= counts[2] && counts[2] >= counts[3] && counts[3] >= counts[4],
        "{counts:?}"
    );
    assert_eq!(counts[4], 15, "14 pairs, the duplicate found both ways");
    assert!(
        !exact.to_string().contains("orders_2023") && !exact.to_string().contains("people"),
        "decoys reported: {exact:#}"
    );

    // The sampled run (the default) finds the same pairs; the doubled rows
    // cannot be told from contained without counting every copy.
    let sampled: Value = serde_json::from_str(&t.run(&["redundancy", "--format", "json"]).await?)?;
    let mut want_sampled = want.clone();
    for b in ["orders", "orders_copy", "orders_near"] {
        want_sampled.remove(&("orders_twice".into(), "overlapping".into(), b.into()));
        want_sampled.insert(("orders_twice".into(), "contained".into(), b.into()));
    }
    assert_eq!(triples(&sampled)?, want_sampled, "{sampled:#}");
    let content = &sampled["stages"][3];
    assert_eq!(content["name"], "content");
    assert_eq!(
        content["reused"], exact["stages"][2]["candidates"],
        "every sampled outcome of the first run is reused"
    );
    Ok(())
}

#[tokio::test]
async fn a_rerun_after_an_ingest_reads_only_the_new_pairs() -> Result<()> {
    let t = TestLake::new()?;
    let files = planted(&t)?;
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    t.ingest(&paths, &[]).await?;
    let first: Value = serde_json::from_str(&t.run(&["redundancy", "--format", "json"]).await?)?;
    let copy = t.file(
        "people_copy.csv",
        (0..50)
            .rev()
            .fold("city,name,age\n".to_string(), |mut s, i| {
                let _ = writeln!(
                    s,
                    "{},p{i},{}",
                    ["oslo", "rome", "lima"][i % 3],
                    20 + i % 40
                );
                s
            }),
    )?;
    t.ingest(&[copy.as_path()], &[]).await?;
    let second: Value = serde_json::from_str(&t.run(&["redundancy", "--format", "json"]).await?)?;
    assert_eq!(
        second["stages"][3]["reused"],
        first["stages"][2]["candidates"]
    );
    assert_eq!(
        second["stages"][2]["candidates"].as_u64(),
        first["stages"][2]["candidates"].as_u64().map(|n| n + 2),
        "the two new pairs: people and people_copy, both ways"
    );
    let added: BTreeSet<_> = triples(&second)?
        .difference(&triples(&first)?)
        .cloned()
        .collect();
    assert_eq!(added, set(&[("people", "duplicate", "people_copy")]));

    // The table form: one line per pair, then the stages.
    let table = t.run(&["redundancy"]).await?;
    let first_line = table
        .lines()
        .find(|l| l.contains("people"))
        .context("people row")?;
    let cells: Vec<&str> = first_line
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        &cells[..5],
        ["people", "duplicate", "people_copy", "1.0", "content"]
    );
    assert!(table.lines().any(|l| l.starts_with("content ")), "{table}");
    Ok(())
}

#[tokio::test]
async fn bad_redundancy_options_are_refused_with_the_reason() -> Result<()> {
    let t = TestLake::new()?;
    t.run(&["init"]).await?;
    let err = t.run_err(&["redundancy", "--threshold", "1.5"]).await;
    assert_eq!(err, "the threshold must be above 0 and at most 1, not 1.5");
    let empty: Value = serde_json::from_str(&t.run(&["redundancy", "--format", "json"]).await?)?;
    assert_eq!(empty["pairs"], serde_json::json!([]));
    Ok(())
}

#[tokio::test]
async fn awkward_tables_compare_canonically_or_are_left_out_with_a_note() -> Result<()> {
    let t = TestLake::new()?;
    let files = [
        t.file("one.csv", "v\n1\n2\n3\n4\n5\n")?,
        t.file("one_sub.csv", "v\n3\n2\n")?,
        // A column with no value at all: null equals null.
        t.file("nulls.csv", "a,b\n1,\n2,\n7,\n")?,
        t.file("nulls_copy.csv", "b,a\n,7\n,2\n,1\n")?,
        // -0.0 is 0.
        t.file("zeros.csv", "x,y\n0.0,p\n1.5,q\n")?,
        t.file("negzeros.csv", "x,y\n1.5,q\n-0.0,p\n")?,
        // Lists compare by their values, in order.
        t.file(
            "nested.ndjson",
            "{\"id\": 1, \"tags\": [\"a\", \"b\"]}\n{\"id\": 2, \"tags\": [\"c\"]}\n",
        )?,
        t.file(
            "nested_copy.ndjson",
            "{\"id\": 2, \"tags\": [\"c\"]}\n{\"id\": 1, \"tags\": [\"a\", \"b\"]}\n",
        )?,
        t.file(
            "nested_other.ndjson",
            "{\"id\": 2, \"tags\": [\"c\"]}\n{\"id\": 1, \"tags\": [\"b\", \"a\"]}\n",
        )?,
        t.file("empty.csv", "v,w\n")?,
    ];
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    t.ingest(&paths, &[]).await?;
    let report: Value = serde_json::from_str(
        &t.run(&["redundancy", "--exact", "--format", "json"])
            .await?,
    )?;
    assert_eq!(
        triples(&report)?,
        set(&[
            ("one_sub", "contained", "one"),
            ("nulls", "duplicate", "nulls_copy"),
            ("negzeros", "duplicate", "zeros"),
            ("nested", "duplicate", "nested_copy"),
        ]),
        "{report:#}"
    );
    // Half of nested's rows are in nested_other (the other list is in another order).
    let half: Value = serde_json::from_str(
        &t.run(&[
            "redundancy",
            "--exact",
            "--threshold",
            "0.5",
            "--format",
            "json",
        ])
        .await?,
    )?;
    assert_eq!(
        pair(&half, "nested", "nested_other")?["share"].as_f64(),
        Some(0.5)
    );
    assert_eq!(
        report["notes"],
        serde_json::json!(["1 dataset(s) with fewer than 1 row(s) left out"])
    );
    Ok(())
}

#[tokio::test]
async fn the_plan_retires_what_a_live_container_rebuilds_within_the_budget() -> Result<()> {
    let t = TestLake::new()?;
    let files = planted(&t)?;
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    t.ingest(&paths, &[]).await?;
    let out: Value = serde_json::from_str(
        &t.run(&[
            "plan",
            "--exact",
            "--max-rebuild-ms",
            "1000000",
            "--format",
            "json",
        ])
        .await?,
    )?;
    let plan = &out["plan"];
    assert_eq!(plan["method"], "exact");
    let retired: BTreeSet<String> = plan["retire"]
        .as_array()
        .context("retire")?
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .collect();
    // One copy of orders stays; the selection and the renamed half go, and
    // nothing that only overlaps (orders_near, orders_twice) is retired.
    let copies: BTreeSet<String> = ["orders", "orders_copy"].map(String::from).into();
    assert_eq!(retired.intersection(&copies).count(), 1, "{plan:#}");
    let others: BTreeSet<String> = retired.difference(&copies).cloned().collect();
    assert_eq!(
        others,
        ["clients_orders", "orders_q1"].map(String::from).into()
    );
    for r in plan["retire"].as_array().context("retire")? {
        let from = r["from"].as_str().context("from")?;
        assert!(
            !retired.contains(from),
            "{r} is rebuilt from a retired dataset"
        );
    }
    let saved: u64 = plan["retire"]
        .as_array()
        .context("retire")?
        .iter()
        .filter_map(|r| r["bytes"].as_u64())
        .sum();
    assert_eq!(plan["bytes_saved"].as_u64(), Some(saved));
    // A budget no scan meets retires nothing.
    let none = t.run(&["plan", "--max-rebuild-ms", "0.000001"]).await?;
    assert_eq!(
        none.trim(),
        "nothing to retire: no contained or duplicate dataset rebuilds within 0 ms"
    );
    Ok(())
}

#[tokio::test]
async fn tables_with_thousands_of_columns_are_compared_whole() -> Result<()> {
    let t = TestLake::new()?;
    let columns = 2000;
    let header: Vec<String> = (0..columns).map(|c| format!("c{c}")).collect();
    let row = |r: usize| -> String {
        (0..columns)
            .map(|c| ((r * 7919 + c * 104_729) % 1000).to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let table = |rows: std::ops::Range<usize>| {
        let mut text = header.join(",");
        text.push('\n');
        for r in rows {
            text.push_str(&row(r));
            text.push('\n');
        }
        text
    };
    let wide = t.file("wide.csv", table(0..40))?;
    let head = t.file("wide_head.csv", table(0..15))?;
    // The same header over other rows: same schema, different content.
    let other = t.file("wide_other.csv", table(100..140))?;
    t.ingest(&[wide.as_path(), head.as_path(), other.as_path()], &[])
        .await?;
    let report: Value = serde_json::from_str(
        &t.run(&["redundancy", "--exact", "--format", "json"])
            .await?,
    )?;
    assert_eq!(
        triples(&report)?,
        set(&[("wide_head", "contained", "wide")]),
        "{report:#}"
    );
    let p = pair(&report, "wide_head", "wide")?;
    assert_eq!(
        (
            p["mapping"].as_array().map(Vec::len),
            p["multiset_share"].as_f64()
        ),
        (Some(columns), Some(1.0))
    );
    assert_eq!(
        report["notes"],
        serde_json::json!([
            "over 256 columns, compared under equal or normalised names only: wide, wide_head, wide_other"
        ])
    );
    Ok(())
}
