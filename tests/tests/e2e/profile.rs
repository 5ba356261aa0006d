//! Column profiles over the demo lake: counts, sketches, storage per version.

use anyhow::{Context, Result};
use lakebook_core::profile::{DatasetProfile, profile_dataset};
use lakebook_core::{Job, Lake};

use crate::support::{TestLake, demo_assets};

fn column<'a>(
    p: &'a DatasetProfile,
    name: &str,
) -> Result<&'a lakebook_core::profile::ColumnProfile> {
    p.columns
        .iter()
        .find(|c| c.name == name)
        .with_context(|| format!("no column {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_describe_columns_and_sketch_their_values() -> Result<()> {
    let t = TestLake::new()?;
    lakebook_core::demo::build_demo(&t.lake(), &demo_assets(), &Job::new()).await?;
    let lake = Lake::open(&t.lake()).await?;

    let customers = profile_dataset(&lake, "customers", &Job::new()).await?;
    assert_eq!(customers.rows, 300);
    let city = column(&customers, "city")?;
    let cities = t
        .scalar("SELECT count(DISTINCT city) FROM customers")
        .await?
        .as_u64()
        .context("count")?;
    assert!(
        city.distinct.abs_diff(cities) <= 1,
        "{} vs {cities}",
        city.distinct
    );
    assert_eq!(city.top[0], ("Helsinki".to_string(), 18));
    assert_eq!(city.nulls, 0);

    let orders = profile_dataset(&lake, "orders", &Job::new()).await?;
    let q1 = profile_dataset(&lake, "orders_2024_q1", &Job::new()).await?;
    let all_ids = column(&orders, "order_id")?;
    let q1_ids = column(&q1, "order_id")?;
    assert_eq!(all_ids.quantiles.len(), 11);
    assert!(all_ids.quantiles[0] <= all_ids.quantiles[10]);
    let inside = q1_ids
        .minhash
        .containment_in(&all_ids.minhash, q1_ids.distinct, all_ids.distinct);
    let outside =
        all_ids
            .minhash
            .containment_in(&q1_ids.minhash, all_ids.distinct, q1_ids.distinct);
    assert!(inside > 0.8, "Q1 orders are all orders: {inside}");
    assert!(outside < 0.3, "most orders are not Q1: {outside}");

    // Stored per version: the second call reads it back unchanged.
    let again = profile_dataset(&lake, "customers", &Job::new()).await?;
    assert_eq!(again, customers);
    let stored = t.lake().join(".lakebook/profiles");
    assert!(stored.is_dir());
    Ok(())
}
