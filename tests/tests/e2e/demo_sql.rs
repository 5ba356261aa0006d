//! The demo lake, built the way `lakebook demo` builds it, and SQL over it.

use anyhow::Result;
use serde_json::json;

use crate::support::{TestLake, demo_assets};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_lake_answers_known_questions() -> Result<()> {
    let t = TestLake::new()?;
    let report =
        lakebook_core::demo::build_demo(&t.lake(), &demo_assets(), &lakebook_core::Job::new())
            .await?;
    assert!(report.is_some());
    let again =
        lakebook_core::demo::build_demo(&t.lake(), &demo_assets(), &lakebook_core::Job::new())
            .await?;
    assert!(again.is_none(), "a built demo lake is left alone");

    let ls: Vec<serde_json::Value> =
        serde_json::from_str(&t.run(&["ls", "--format", "json"]).await?)?;
    let mut names: Vec<&str> = ls.iter().filter_map(|d| d["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "clients",
            "customers",
            "documents",
            "orders",
            "orders_2024_q1",
            "products",
            "products_backup",
            "sensor_readings",
            "stores",
            "stores_regions",
        ]
    );
    assert_eq!(
        t.scalar("SELECT count(*) FROM customers WHERE city = 'Lisbon'")
            .await?,
        json!(15)
    );
    assert_eq!(
        t.scalar("SELECT count(*) FROM orders_2024_q1").await?,
        json!(260)
    );
    assert_eq!(
        t.scalar("SELECT sum(quantity) FROM orders").await?,
        json!(3990)
    );
    // A join across datasets, an aggregate, a top-k.
    let top = t
        .sql(
            "SELECT p.name, sum(o.quantity) AS units FROM orders o JOIN products p ON o.product_sku = p.sku \
             GROUP BY p.name ORDER BY units DESC LIMIT 1",
        )
        .await?;
    assert_eq!(top[0], json!({"name": "Ridgeline 1P Tent", "units": 98}));
    // One table contained in the other.
    assert_eq!(
        t.scalar("SELECT count(*) FROM orders_2024_q1 q JOIN orders o ON q.order_id = o.order_id AND q.quantity = o.quantity").await?,
        json!(260)
    );
    // Columns that correspond under other names.
    assert_eq!(
        t.scalar("SELECT count(*) FROM customers c JOIN clients k ON c.email = k.mail AND k.client_no = c.customer_id + 10000").await?,
        json!(180)
    );
    assert_eq!(
        t.scalar("SELECT store_name FROM stores WHERE store_id = 1")
            .await?,
        json!("Northwind Lisbon")
    );
    assert_eq!(
        t.scalar("SELECT count(*) FROM sensor_readings").await?,
        json!(5000)
    );
    assert_eq!(
        t.scalar("SELECT count(DISTINCT path) FROM documents")
            .await?,
        json!(32)
    );
    assert_eq!(t.scalar("SELECT count(*) FROM documents WHERE text LIKE '%scriptmarkerquokka%' OR text LIKE '%stylemarkerwombat%'").await?, json!(0));
    assert_eq!(
        t.scalar("SELECT count(DISTINCT path) FROM documents WHERE text LIKE '%perihelion%'")
            .await?,
        json!(1)
    );
    let plan = t
        .run(&[
            "sql",
            "EXPLAIN SELECT count(*) FROM orders WHERE quantity > 2",
        ])
        .await?;
    assert!(
        plan.contains("logical_plan") && plan.contains("physical_plan"),
        "{plan}"
    );
    let csv = t
        .run(&[
            "sql",
            "SELECT sku, name FROM products ORDER BY sku LIMIT 1",
            "--format",
            "csv",
        ])
        .await?;
    assert_eq!(csv.trim(), "sku,name\nNW-1001,Ridgeline 1P Tent");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cache_returns_the_same_answers() -> Result<()> {
    use lakebook_core::render::{OutputFormat, render_batches};
    let t = TestLake::new()?;
    lakebook_core::demo::build_demo(&t.lake(), &demo_assets(), &lakebook_core::Job::new()).await?;
    let lake = lakebook_core::Lake::open(&t.lake()).await?;
    let plain = lakebook_core::sql::SqlEngine::new(&lake);
    let cached = lakebook_core::sql::SqlEngine::with_cache(&lake, 64 << 20);
    let tiny = lakebook_core::sql::SqlEngine::with_cache(&lake, 16 << 10);
    for q in [
        "SELECT status, count(*) AS n, round(sum(quantity * unit_price), 2) AS revenue FROM orders GROUP BY status ORDER BY status",
        "SELECT c.city, count(*) AS n FROM orders o JOIN customers c ON o.customer_id = c.customer_id GROUP BY c.city ORDER BY n DESC, c.city LIMIT 3",
        "SELECT order_id, quantity FROM orders WHERE quantity > 3 ORDER BY order_id LIMIT 5",
        "SELECT count(*) FROM documents WHERE text LIKE '%comet%'",
    ] {
        let want = plain.query(q).await?;
        let want = render_batches(&want.schema, &want.batches, OutputFormat::Csv)?;
        for engine in [&cached, &tiny] {
            for run in 0..2 {
                let got = engine.query(q).await?;
                let got = render_batches(&got.schema, &got.batches, OutputFormat::Csv)?;
                assert_eq!(got, want, "run {run} of {q}");
            }
        }
    }
    let out = t
        .run(&[
            "sql",
            "SELECT sum(quantity) AS q FROM orders",
            "--repeat",
            "3",
        ])
        .await?;
    assert!(out.contains("3990"), "{out}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_results_are_cut_in_table_format_only() -> Result<()> {
    let t = TestLake::new()?;
    lakebook_core::demo::build_demo(&t.lake(), &demo_assets(), &lakebook_core::Job::new()).await?;
    let table = t
        .run(&[
            "sql",
            "SELECT order_id FROM orders ORDER BY order_id",
            "--max-rows",
            "5",
        ])
        .await?;
    assert!(table.contains("| 100005"), "{table}");
    assert!(!table.contains("| 100006"), "{table}");
    assert!(table.contains("(2000 rows; showing the first 5"), "{table}");
    let csv = t
        .run(&[
            "sql",
            "SELECT order_id FROM orders",
            "--format",
            "csv",
            "--max-rows",
            "5",
        ])
        .await?;
    assert_eq!(csv.lines().count(), 2001);
    Ok(())
}
