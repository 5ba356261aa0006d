//! Schema matching: column correspondences on the demo lake, related tables
//! through LSH, Valentine's metrics, fabricated pairs, and awkward tables.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, NullArray, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use lakebook_core::embed::{MiniLm, locate_model};
use lakebook_core::ingest::{self, IngestOptions};
use lakebook_core::matching::related::{Related, RelatedIndex, TableSketch, lake_sketches};
use lakebook_core::matching::{
    ColumnEmbedder, MatchReport, Matcher, match_datasets, match_profiles,
};
use lakebook_core::profile::sketch::MinHash;
use lakebook_core::profile::{DatasetProfile, profile_batch};
use lakebook_core::{Job, Lake};
use lakebook_eval::matching::fabricate::{self, Scenario};
use lakebook_eval::matching::metrics::{self, scored_pairs};
use serde_json::Value;

use crate::support::{TestLake, demo_assets};

/// The real MiniLM model, wrapped for column embedding.
fn embedder() -> Result<ColumnEmbedder> {
    let model = MiniLm::load(&locate_model(None)?.dir)?;
    Ok(ColumnEmbedder::new(Arc::new(model)))
}

/// A demo lake in a temp folder.
async fn demo_lake() -> Result<(TestLake, Lake)> {
    let t = TestLake::new()?;
    lakebook_core::demo::build_demo(&t.lake(), &demo_assets(), &Job::new()).await?;
    let lake = Lake::open(&t.lake()).await?;
    Ok((t, lake))
}

/// The selected pairs of a report as (source, target).
fn selected(r: &MatchReport) -> BTreeSet<(String, String)> {
    r.selected
        .iter()
        .map(|m| (m.source.clone(), m.target.clone()))
        .collect()
}

fn pair(s: &str, t: &str) -> (String, String) {
    (s.to_string(), t.to_string())
}

/// Reads a table file the way `eval` and `fabricate` do.
fn read(path: &Path) -> Result<RecordBatch> {
    Ok(ingest::read_table(
        path,
        &IngestOptions::default(),
        &Job::new(),
    )?)
}

fn demo_table(file: &str) -> PathBuf {
    demo_assets().join("tables").join(file)
}

fn tables_named(related: &[Related]) -> Vec<&str> {
    related.iter().map(|r| r.table.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_and_clients_correspond_under_other_names() -> Result<()> {
    let (t, lake) = demo_lake().await?;
    let model = embedder()?;
    let r = match_datasets(
        &lake,
        "customers",
        "clients",
        Matcher::Combined,
        Some(&model),
        &Job::new(),
    )
    .await?;
    assert_eq!(
        (r.source.as_str(), r.target.as_str()),
        ("customers", "clients")
    );
    assert!(
        !r.notes.iter().any(|n| n.contains("skipped")),
        "the model was given: {:?}",
        r.notes
    );

    // Checked against the CSV and the Parquet file: same people, other headers.
    let chosen = selected(&r);
    let certain = [
        pair("email", "mail"),
        pair("city", "town"),
        pair("country", "nation"),
        pair("signup_date", "joined_on"),
        pair("lifetime_value", "total_spend"),
    ];
    for p in &certain {
        assert!(chosen.contains(p), "{p:?} not selected: {chosen:?}");
    }
    assert!(
        chosen.contains(&pair("last_name", "full_name"))
            || chosen.contains(&pair("first_name", "full_name")),
        "full_name goes with a name part: {chosen:?}"
    );
    // clients has no counterpart of is_active, and no column is used twice.
    assert!(chosen.iter().all(|(s, _)| s != "is_active"), "{chosen:?}");
    let targets: BTreeSet<&String> = chosen.iter().map(|(_, t)| t).collect();
    assert_eq!(targets.len(), chosen.len(), "one-to-one: {chosen:?}");
    // The ids are disjoint (client_no = customer_id + 10000): ranked, if weakly.
    assert!(
        r.ranked
            .iter()
            .any(|m| m.source == "customer_id" && m.target == "client_no"),
        "customer_id ~ client_no is listed"
    );

    // Ranked best first; the five certain pairs lead, each scoring ≥ 0.9.
    assert!(
        r.ranked.windows(2).all(|w| w[0].score >= w[1].score),
        "ranked by score"
    );
    let top: BTreeSet<(String, String)> = r.ranked[..certain.len()]
        .iter()
        .map(|m| (m.source.clone(), m.target.clone()))
        .collect();
    assert_eq!(top, certain.iter().cloned().collect(), "the top five");
    for m in &r.selected {
        assert!(m.score >= 0.2 && m.score <= 1.0, "{m:?}");
        if certain.contains(&(m.source.clone(), m.target.clone())) {
            assert!(m.score >= 0.9, "{m:?}");
        }
    }

    // Every listed pair carries the evidence of the three cheap matchers; the
    // model was asked where names and values did not settle it.
    for m in &r.ranked {
        let seen: Vec<String> = m.evidence.iter().map(|e| e.matcher.to_string()).collect();
        for matcher in ["name", "instances", "distribution"] {
            assert!(seen.iter().any(|s| s == matcher), "{m:?}");
        }
        assert!(
            m.evidence
                .iter()
                .all(|e| (0.0..=1.0).contains(&e.score) && !e.detail.is_empty()),
            "{m:?}"
        );
    }
    let semantic = |s: &str, t: &str| {
        r.ranked
            .iter()
            .find(|m| m.source == s && m.target == t)
            .is_some_and(|m| m.evidence.iter().any(|e| e.matcher == "semantic"))
    };
    assert!(
        semantic("lifetime_value", "total_spend"),
        "unsettled: asked"
    );
    let names = r
        .ranked
        .iter()
        .find(|m| m.source == "city" && m.target == "town")
        .context("city ~ town")?;
    assert!(
        names
            .evidence
            .iter()
            .any(|e| e.matcher == "name" && e.score >= 0.9),
        "town is a synonym of city: {names:?}"
    );

    // The same people with the same addresses: a join on email (180 of 250 clients).
    let join = r.tables.join.as_ref().context("customers join clients")?;
    assert_eq!(
        (join.source_column.as_str(), join.target_column.as_str()),
        ("email", "mail")
    );
    assert!(
        (0.6..=0.85).contains(&join.containment),
        "180/250 = 0.72: {join:?}"
    );
    assert_eq!(r.tables.aligned, r.selected.len());
    assert!(r.tables.unionability > 0.4 && r.tables.unionability <= 1.0);

    // Without the model the combined matcher still answers, and says so.
    let cheap = match_datasets(
        &lake,
        "customers",
        "clients",
        Matcher::Combined,
        None,
        &Job::new(),
    )
    .await?;
    assert!(
        cheap
            .notes
            .iter()
            .any(|n| n.contains("semantic matcher skipped")),
        "{:?}",
        cheap.notes
    );
    assert!(selected(&cheap).contains(&pair("city", "town")));

    // The CLI gives the same selection as JSON.
    let out = t
        .run(&["match", "customers", "clients", "--format", "json"])
        .await?;
    let json: Value = serde_json::from_str(out.trim())?;
    let cli: BTreeSet<(String, String)> = json["selected"]
        .as_array()
        .context("selected")?
        .iter()
        .map(|m| {
            pair(
                m["source"].as_str().unwrap_or_default(),
                m["target"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(cli, chosen);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_sharing_a_key_join_on_it() -> Result<()> {
    let (_t, lake) = demo_lake().await?;
    let model = embedder()?;
    // (source, target, join column of each, a pair that must be selected)
    let cases = [
        ("orders_2024_q1", "orders", ("order_id", "order_id")),
        ("products", "products_backup", ("sku", "sku")),
        ("orders", "products", ("product_sku", "sku")),
        ("sensor_readings", "stores", ("store_id", "store_id")),
    ];
    for (a, b, (ka, kb)) in cases {
        let r = match_datasets(&lake, a, b, Matcher::Combined, Some(&model), &Job::new()).await?;
        let join = r
            .tables
            .join
            .as_ref()
            .with_context(|| format!("{a} ~ {b}"))?;
        assert_eq!(
            (join.source_column.as_str(), join.target_column.as_str()),
            (ka, kb),
            "{a} ~ {b}: {join:?}"
        );
        assert!(join.score > 0.8 && join.key_uniqueness > 0.99, "{join:?}");
        assert!(selected(&r).contains(&pair(ka, kb)), "{a} ~ {b}");
    }
    // The subset and the near duplicate: every column with its namesake.
    for (a, b) in [
        ("orders_2024_q1", "orders"),
        ("products", "products_backup"),
    ] {
        let r = match_datasets(&lake, a, b, Matcher::Combined, Some(&model), &Job::new()).await?;
        assert_eq!(r.selected.len(), 7, "{a} ~ {b}");
        assert!(
            r.selected
                .iter()
                .all(|m| m.source == m.target && m.score == 1.0)
        );
        assert!((r.tables.unionability - 1.0).abs() < 1e-9);
    }
    Ok(())
}

/// Engine bug: `ColumnState::add` (core/src/profile/mod.rs) tests
/// `column.is_null(row)`, which is false for every row of a `NullArray` (it
/// has no null buffer), so an all-null column of Arrow's Null type is
/// profiled as present values "" (nulls 0, distinct 1), and two such columns
/// look like identical value sets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_type_columns_are_profiled_as_nulls() -> Result<()> {
    let a = batch(vec![column("remark", Arc::new(NullArray::new(20)))])?;
    let b = batch(vec![column("discount", Arc::new(NullArray::new(30)))])?;
    let (profile, r) = match_batches(&a, &b)?;
    let c = &profile.columns[0];
    assert_eq!((c.rows, c.nulls, c.distinct), (20, 20, 0), "{c:?}");
    assert!(
        r.selected.is_empty(),
        "unrelated names, no values: {:?}",
        r.selected
    );
    Ok(())
}

/// Engine weak spot: `tables::table_scores` takes the first pair reaching the
/// best `containment × key uniqueness`, so orders.quantity (values 1–5, all
/// inside customers.customer_id = 1..300) is reported as the join column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_join_customers_on_customer_id() -> Result<()> {
    let (_t, lake) = demo_lake().await?;
    let r = match_datasets(
        &lake,
        "orders",
        "customers",
        Matcher::Combined,
        None,
        &Job::new(),
    )
    .await?;
    let join = r.tables.join.context("orders join customers")?;
    assert_eq!(
        (join.source_column.as_str(), join.target_column.as_str()),
        ("customer_id", "customer_id"),
        "{join:?}"
    );
    Ok(())
}

/// What a sketch holds, with the floats rounded (JSON may move the last bit).
fn sketch_summary(sketches: &[TableSketch]) -> Vec<(String, u64, u64, Vec<String>)> {
    sketches
        .iter()
        .map(|t| {
            let columns = t
                .columns
                .iter()
                .map(|c| {
                    let same = |m: &MinHash| format!("{m:?}");
                    format!(
                        "{} {} {} {:.9} {}",
                        c.name,
                        c.data_type,
                        c.distinct,
                        c.uniqueness,
                        same(&c.minhash)
                    )
                })
                .collect();
            (t.name.clone(), t.version, t.rows, columns)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn related_tables_are_found_through_sketches_kept_per_version() -> Result<()> {
    let (t, lake) = demo_lake().await?;
    let store = t.lake().join(".lakebook/related.json");
    let profiles = t.lake().join(".lakebook/profiles");
    assert!(!store.exists());
    let sketches = lake_sketches(&lake, &Job::new()).await?;
    assert_eq!(sketches.len(), lake.dataset_names().len());
    assert!(store.is_file() && profiles.is_dir());
    let index = RelatedIndex::build(sketches.clone());
    assert_eq!(index.len(), sketches.len());

    // The near duplicate: products is the best relative, all columns align.
    let backup = index.related("products_backup", 10).context("indexed")?;
    assert_eq!(backup[0].table, "products", "{:?}", tables_named(&backup));
    assert!(backup[0].union_score > 0.9, "{:?}", backup[0]);
    assert_eq!(backup[0].aligned.len(), 7);
    let join = backup[0].join.as_ref().context("sku join")?;
    assert_eq!(
        (join.column.as_str(), join.other_column.as_str()),
        ("sku", "sku")
    );
    // Products relate to orders through the sku, to nothing about people or sensors.
    for unrelated in [
        "documents",
        "sensor_readings",
        "customers",
        "clients",
        "stores",
    ] {
        assert!(
            !tables_named(&backup).contains(&unrelated),
            "{unrelated} in {:?}",
            tables_named(&backup)
        );
    }
    let products = index.related("products", 10).context("indexed")?;
    let dup = products
        .iter()
        .find(|r| r.table == "products_backup")
        .context("products_backup relates to products")?;
    assert!(dup.union_score > 0.9 && dup.score > 0.9, "{dup:?}");
    assert!(!tables_named(&products).contains(&"documents"));

    // The subset: orders_2024_q1 unions with orders (every column) and is inside it.
    let q1 = index.related("orders_2024_q1", 10).context("indexed")?;
    let orders = q1
        .iter()
        .find(|r| r.table == "orders")
        .with_context(|| format!("orders in {:?}", tables_named(&q1)))?;
    assert!(
        orders.union_score > 0.9 && orders.aligned.len() == 7,
        "{orders:?}"
    );
    let join = orders.join.as_ref().context("join to orders")?;
    assert!(join.containment > 0.8, "Q1 rows are orders: {join:?}");
    for unrelated in ["documents", "sensor_readings", "stores"] {
        assert!(
            !tables_named(&q1).contains(&unrelated),
            "{:?}",
            tables_named(&q1)
        );
    }
    assert!(index.related("nope", 10).is_none());

    // The indexes find what scoring every table finds, at the top. (For
    // orders and customers, brute force also scores spurious joins of small
    // integer columns into ids at 1.0, so only the top score is compared.)
    for name in lake.dataset_names() {
        let fast = index.related(&name, 10).context("indexed")?;
        let slow = index.related_brute_force(&name, 10).context("indexed")?;
        let exact = [
            "products_backup",
            "products",
            "orders_2024_q1",
            "clients",
            "sensor_readings",
        ];
        if exact.contains(&name.as_str()) {
            assert_eq!(
                fast.first().map(|r| &r.table),
                slow.first().map(|r| &r.table),
                "{name}: {:?} vs {:?}",
                tables_named(&fast),
                tables_named(&slow)
            );
        }
        if let (Some(f), Some(s)) = (fast.first(), slow.first()) {
            assert!(f.score >= s.score - 0.02, "{name}: {f:?} vs {s:?}");
        }
        assert!(fast.len() <= slow.len(), "{name}");
        assert!(fast.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(fast.iter().all(|r| r.score >= 0.3 && r.table != name));
    }

    // Stored and reused: without the profiles, the second call still answers
    // from related.json alone and neither profiles again nor rewrites it.
    let written = std::fs::metadata(&store)?.modified()?;
    std::fs::remove_dir_all(&profiles)?;
    let again = lake_sketches(&lake, &Job::new()).await?;
    assert_eq!(sketch_summary(&again), sketch_summary(&sketches));
    assert!(!profiles.exists(), "nothing was profiled");
    assert_eq!(std::fs::metadata(&store)?.modified()?, written);

    // A new dataset: only it is profiled, and the store grows.
    let extra = t.file("extra.csv", "sku,label\nNW-1001,a\nNW-1002,b\nNW-1003,c\n")?;
    t.ingest(&[&extra], &[]).await?;
    let lake = Lake::open(&t.lake()).await?;
    let third = lake_sketches(&lake, &Job::new()).await?;
    assert_eq!(third.len(), sketches.len() + 1);
    assert_eq!(
        std::fs::read_dir(&profiles)?.count(),
        1,
        "only the new dataset profiled"
    );
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&store)?)?;
    assert_eq!(stored["tables"].as_array().map(Vec::len), Some(third.len()));

    // The CLI answers the same.
    let out = t
        .run(&["related", "products_backup", "--format", "json"])
        .await?;
    let json: Value = serde_json::from_str(out.trim())?;
    assert_eq!(json["related"][0]["table"], "products");
    assert_eq!(json["index_tables"], third.len());
    Ok(())
}

/// The Valentine "authors" pair of the shared bench data (as the embedding
/// fixtures, beside the checkout).
fn valentine_authors() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/bench/valentine-authors"
    ))
}

const METRIC_KEYS: [&str; 6] = [
    "precision",
    "recall",
    "f1",
    "precision_top_10_percent",
    "recall_at_size_of_ground_truth",
    "mean_reciprocal_rank",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valentine_authors_pair_scores_perfectly() -> Result<()> {
    let dir = valentine_authors();
    let truth_file = dir.join("ground_truth.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&truth_file)?)?;
    let truth: Vec<(String, String)> = json["matches"]
        .as_array()
        .context("matches")?
        .iter()
        .map(|m| {
            pair(
                m["source_column"].as_str().unwrap_or_default(),
                m["target_column"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(truth.len(), 3);
    let a = profile_batch("authors1", &read(&dir.join("authors1.csv"))?);
    let b = profile_batch("authors2", &read(&dir.join("authors2.csv"))?);
    let model = embedder()?;
    let r = match_profiles(&a, &b, Matcher::Combined, Some(&model))?;
    let m = metrics::evaluate(&scored_pairs(&r), &truth);
    assert_eq!(m.recall, 1.0, "{m:?}");
    assert!(m.f1 >= 0.85 && m.precision >= 0.75, "{m:?}");
    assert_eq!(m.mean_reciprocal_rank, 1.0, "{m:?}");
    assert_eq!(m.recall_at_size_of_ground_truth, 1.0, "{m:?}");
    assert_eq!(m.precision_top_10_percent, 1.0, "{m:?}");
    // Title, Year, DOI... have no counterpart: nothing else is selected.
    assert_eq!(
        selected(&r),
        truth.iter().cloned().collect(),
        "{:?}",
        r.selected
    );

    // The names alone suffice here; each single matcher finds all three.
    for matcher in [Matcher::Name, Matcher::Instances, Matcher::Distribution] {
        let r = match_profiles(&a, &b, matcher, None)?;
        let m = metrics::evaluate(&scored_pairs(&r), &truth);
        assert_eq!(m.recall, 1.0, "{matcher:?}: {m:?}");
    }

    // The binary: `eval match A.csv B.csv --truth T.json`.
    let t = TestLake::new()?;
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let out = t
        .run(&[
            "eval",
            "match",
            &path("authors1.csv"),
            &path("authors2.csv"),
            "--truth",
            &path("ground_truth.json"),
        ])
        .await?;
    let json: Value = serde_json::from_str(out.trim())?;
    let got = json["metrics"].as_object().context("metrics")?;
    for key in METRIC_KEYS {
        let v = got.get(key).and_then(Value::as_f64);
        assert!(v.is_some_and(|v| (0.0..=1.0).contains(&v)), "{key}: {json}");
    }
    assert_eq!(got.len(), METRIC_KEYS.len(), "{json}");
    assert_eq!(json["metrics"]["f1"].as_f64(), Some(m.f1));
    assert_eq!(json["matcher"], "combined");
    assert!(json["matches"].as_array().is_some_and(|a| a.len() >= 3));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fabricated_pairs_are_matched_and_combined_beats_names_alone() -> Result<()> {
    let model = embedder()?;
    let suite = fabricate::suite();
    assert_eq!(suite.len(), 20);
    let ids: BTreeSet<String> = suite.iter().map(fabricate::Variant::id).collect();
    assert_eq!(ids.len(), 20, "ids are distinct");
    for base in ["customers", "orders"] {
        let batch = read(&demo_table(&format!("{base}.csv")))?;
        let mut combined = Vec::new();
        let (mut noisy_combined, mut noisy_name) = (Vec::new(), Vec::new());
        for variant in &suite {
            let p = fabricate::fabricate(&batch, base, variant, 7)?;
            // The same seed gives the same pair.
            let again = fabricate::fabricate(&batch, base, variant, 7)?;
            assert_eq!((&again.truth, &again.source), (&p.truth, &p.source));
            assert!(!p.truth.is_empty(), "{}", p.id);
            let (s, t) = (
                profile_batch("source", &p.source),
                profile_batch("target", &p.target),
            );
            for (a, b) in &p.truth {
                assert!(s.columns.iter().any(|c| &c.name == a), "{}: {a}", p.id);
                assert!(t.columns.iter().any(|c| &c.name == b), "{}: {b}", p.id);
            }
            let r = match_profiles(&s, &t, Matcher::Combined, Some(&model))?;
            let m = metrics::evaluate(&scored_pairs(&r), &p.truth);
            if !variant.noisy_schema {
                assert_eq!(m.recall, 1.0, "{}: {m:?}", p.id);
            }
            if variant.scenario == Scenario::Unionable {
                assert_eq!(p.truth.len(), batch.num_columns(), "{}", p.id);
            }
            combined.push(m.f1);
            if variant.noisy_schema {
                noisy_combined.push(m.f1);
                let by_name = match_profiles(&s, &t, Matcher::Name, None)?;
                noisy_name.push(metrics::evaluate(&scored_pairs(&by_name), &p.truth).f1);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        eprintln!(
            "{base}: combined mean F1 {:.3}; noisy schema: combined {:.3}, name {:.3}",
            mean(&combined),
            mean(&noisy_combined),
            mean(&noisy_name)
        );
        assert_eq!(combined.len(), 20);
        assert!(mean(&combined) >= 0.8, "{base}: {combined:?}");
        assert!(
            mean(&noisy_combined) >= mean(&noisy_name),
            "{base}: combined {noisy_combined:?} vs name {noisy_name:?}"
        );
    }
    Ok(())
}

fn column(name: &str, values: ArrayRef) -> (String, ArrayRef) {
    (name.to_string(), values)
}

fn batch(columns: Vec<(String, ArrayRef)>) -> Result<RecordBatch> {
    Ok(RecordBatch::try_from_iter(columns)?)
}

fn ints(values: impl IntoIterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(values))
}

fn texts(values: impl IntoIterator<Item = String>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

/// Matches two in-memory tables with the combined matcher (no model).
fn match_batches(a: &RecordBatch, b: &RecordBatch) -> Result<(DatasetProfile, MatchReport)> {
    let pa = profile_batch("left", a);
    let r = match_profiles(&pa, &profile_batch("right", b), Matcher::Combined, None)?;
    for m in &r.ranked {
        assert!((0.0..=1.0).contains(&m.score), "{m:?}");
    }
    assert!(r.tables.unionability.is_finite());
    Ok((pa, r))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_tables_get_sensible_answers() -> Result<()> {
    let people = batch(vec![
        column("city", texts((0..40).map(|i| format!("town{}", i % 7)))),
        column("age", ints(20..60)),
        column(
            "member",
            Arc::new(BooleanArray::from_iter((0..40).map(|i| Some(i % 3 == 0)))),
        ),
        column(
            "balance",
            Arc::new(Float64Array::from_iter_values(
                (0..40).map(|i| i as f64 * 1.5),
            )),
        ),
    ])?;

    // One column each, different names and values: no correspondence, no panic.
    let (_, r) = match_batches(
        &batch(vec![column("id", ints(1..50))])?,
        &batch(vec![column(
            "label",
            texts((0..30).map(|i| format!("x{i}"))),
        )])?,
    )?;
    assert!(r.selected.is_empty(), "{:?}", r.selected);
    // One column each that do correspond.
    let (_, r) = match_batches(
        &batch(vec![column(
            "city",
            texts((0..30).map(|i| format!("town{}", i % 7))),
        )])?,
        &batch(vec![column(
            "town",
            texts((0..20).map(|i| format!("town{}", i % 5))),
        )])?,
    )?;
    assert_eq!(selected(&r), BTreeSet::from([pair("city", "town")]));

    // No rows: names and types only, and a note says so.
    let empty = RecordBatch::new_empty(Arc::new(Schema::new(vec![
        Field::new("city", DataType::Utf8, true),
        Field::new("age", DataType::Int64, true),
    ])));
    let (profile, r) = match_batches(&empty, &people)?;
    assert_eq!(profile.rows, 0);
    assert!(
        r.notes.iter().any(|n| n.contains("'left' has no rows")),
        "{:?}",
        r.notes
    );
    assert!(r.tables.join.is_none());
    let (_, r) = match_batches(&empty, &empty)?;
    assert_eq!(r.notes.iter().filter(|n| n.contains("no rows")).count(), 2);
    assert_eq!(
        selected(&r),
        BTreeSet::from([pair("city", "city"), pair("age", "age")])
    );
    // No columns at all.
    let bare = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(3)),
    )?;
    let (_, r) = match_batches(&bare, &people)?;
    assert!(r.ranked.is_empty());
    assert!(
        r.notes.iter().any(|n| n.contains("no columns")),
        "{:?}",
        r.notes
    );

    // All-null columns: profiled as nulls, matched by name only, never to real values.
    let nulls = batch(vec![
        column("city", Arc::new(StringArray::from(vec![None::<&str>; 20]))),
        column("age", Arc::new(Int64Array::from(vec![None::<i64>; 20]))),
    ])?;
    let (profile, r) = match_batches(&nulls, &nulls)?;
    for c in &profile.columns {
        assert_eq!((c.nulls, c.distinct), (20, 0), "{c:?}");
    }
    assert_eq!(r.selected.len(), 2);
    assert!(
        r.tables.join.is_none(),
        "no values, no join: {:?}",
        r.tables
    );
    let renamed = batch(vec![
        column("x1", Arc::new(StringArray::from(vec![None::<&str>; 20]))),
        column("x2", Arc::new(Int64Array::from(vec![None::<i64>; 20]))),
    ])?;
    let (_, r) = match_batches(&nulls, &renamed)?;
    assert!(
        r.selected.is_empty(),
        "nulls equal nothing: {:?}",
        r.selected
    );
    // A column of Arrow's Null type (as an always-null JSON field reads).
    let typed_null = batch(vec![column("note", Arc::new(NullArray::new(20)))])?;
    let (profile, r) = match_batches(&typed_null, &people)?;
    assert!(r.selected.is_empty(), "{:?}", r.selected);
    assert_eq!(profile.columns[0].rows, 20);

    // Identical tables: every column with itself, score 1 (the demo customers).
    let customers = read(&demo_table("customers.csv"))?;
    let (profile, r) = match_batches(&customers, &customers)?;
    assert_eq!(profile.columns.len(), 9);
    assert_eq!(r.selected.len(), 9, "{:?}", selected(&r));
    for m in &r.selected {
        assert_eq!(
            (m.source.as_str(), m.score),
            (m.target.as_str(), 1.0),
            "{m:?}"
        );
    }
    assert!((r.tables.unionability - 1.0).abs() < 1e-9);
    assert!(r.tables.join.as_ref().is_some_and(|j| j.containment > 0.99));

    // Binary columns: profiled and matched like any other, no panic.
    let blobs = |name: &str, n: u8| -> Result<RecordBatch> {
        batch(vec![
            column(
                name,
                Arc::new(BinaryArray::from_iter_values(
                    (0..n).map(|i| vec![i, 0, 255]),
                )),
            ),
            column("id", ints(0..i64::from(n))),
        ])
    };
    let (profile, r) = match_batches(&blobs("blob", 30)?, &blobs("payload", 25)?)?;
    assert_eq!(profile.columns[0].data_type, "Binary");
    assert_eq!(profile.columns[0].distinct, 30);
    let chosen = selected(&r);
    assert!(chosen.contains(&pair("blob", "payload")), "{chosen:?}");
    assert!(chosen.contains(&pair("id", "id")), "{chosen:?}");
    let (_, r) = match_batches(&blobs("blob", 30)?, &people)?;
    assert!(
        r.selected.iter().all(|m| m.source != "blob"),
        "{:?}",
        r.selected
    );

    // Thousands of columns against five: done in well under the limit.
    let started = Instant::now();
    let wide = batch(
        (0..2000)
            .map(|i| {
                column(
                    &format!("metric_{i}"),
                    ints((0..100).map(move |r| r * (i % 13) + i)),
                )
            })
            .collect(),
    )?;
    let narrow = batch(vec![
        column("city", texts((0..80).map(|i| format!("town{}", i % 9)))),
        column("metric_7", ints((0..80).map(|r| r * 7 + 7))),
        column(
            "score",
            Arc::new(Float64Array::from_iter_values((0..80).map(f64::from))),
        ),
        column("label", texts((0..80).map(|i| format!("L{i}")))),
        column("count", ints(0..80)),
    ])?;
    let (profile, r) = match_batches(&wide, &narrow)?;
    let elapsed = started.elapsed();
    eprintln!("2000 × 5 columns: profiled and matched in {elapsed:?}");
    assert_eq!(profile.columns.len(), 2000);
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(
        selected(&r).contains(&pair("metric_7", "metric_7")),
        "{:?}",
        selected(&r)
    );
    assert!(r.selected.len() <= 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_datasets_in_a_lake() -> Result<()> {
    let t = TestLake::new()?;
    let header_only = t.file("header_only.csv", "name,city,age\n")?;
    let people = t.file(
        "people.csv",
        "name,city,age\nAnn,Oslo,31\nBo,Rome,42\nCy,Oslo,27\n",
    )?;
    t.ingest(&[&header_only, &people], &[]).await?;
    let lake = Lake::open(&t.lake()).await?;
    let r = match_datasets(
        &lake,
        "header_only",
        "people",
        Matcher::Combined,
        None,
        &Job::new(),
    )
    .await?;
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("'header_only' has no rows")),
        "{:?}",
        r.notes
    );
    assert_eq!(
        selected(&r),
        BTreeSet::from([
            pair("name", "name"),
            pair("city", "city"),
            pair("age", "age")
        ])
    );

    // A dataset that does not exist is named in the error, with the ones that do.
    for (a, b) in [("nope", "people"), ("people", "nope")] {
        let err = match_datasets(&lake, a, b, Matcher::Combined, None, &Job::new())
            .await
            .err()
            .context("matching a missing dataset fails")?
            .to_string();
        assert!(
            err.contains("no dataset named 'nope'") && err.contains("people"),
            "{err}"
        );
    }
    let err = t.run_err(&["match", "people", "nope"]).await;
    assert!(err.contains("'nope'"), "{err}");
    let err = t.run_err(&["related", "nope"]).await;
    assert!(err.contains("'nope'"), "{err}");
    // The semantic matcher without a model is refused, not silently empty.
    let p = profile_batch("p", &read(&people)?);
    let err = match_profiles(&p, &p, Matcher::Semantic, None)
        .err()
        .context("semantic needs the model")?;
    assert!(err.to_string().contains("embedding model"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fabricate_writes_twenty_pairs_per_base_and_eval_scores_them() -> Result<()> {
    let t = TestLake::new()?;
    let out_dir = t.src("pairs");
    let bases = [
        demo_table("customers.csv"),
        demo_table("orders_2024_q1.csv"),
    ];
    let mut args = vec!["fabricate".to_string()];
    args.extend(bases.iter().map(|b| b.to_string_lossy().into_owned()));
    args.extend(["--out".into(), out_dir.to_string_lossy().into_owned()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = t.run(&refs).await?;
    assert!(out.contains("40 pairs written"), "{out}");

    for base in ["customers", "orders_2024_q1"] {
        let mut variants = BTreeMap::new();
        for entry in std::fs::read_dir(out_dir.join(base))? {
            let dir = entry?.path();
            let truth: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json"))?)?;
            let matches = truth["matches"].as_array().context("matches")?;
            assert!(!matches.is_empty(), "{}", dir.display());
            let meta: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json"))?)?;
            assert_eq!(meta["base"], base);
            // Both tables read back, and the truth names their columns.
            let (s, tg) = (
                read(&dir.join("source.csv"))?,
                read(&dir.join("target.csv"))?,
            );
            assert_eq!(meta["source_rows"].as_u64(), Some(s.num_rows() as u64));
            for m in matches {
                let (a, b) = (
                    m["source_column"].as_str().context("source_column")?,
                    m["target_column"].as_str().context("target_column")?,
                );
                assert!(s.schema().field_with_name(a).is_ok(), "{a}");
                assert!(tg.schema().field_with_name(b).is_ok(), "{b}");
            }
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            variants.insert(name.context("name")?, matches.len());
        }
        let expected: BTreeSet<String> = fabricate::suite().iter().map(|v| v.id()).collect();
        assert_eq!(variants.keys().cloned().collect::<BTreeSet<_>>(), expected);
    }

    // `eval match-suite` scores every pair folder in one run.
    let out = t
        .run(&[
            "eval",
            "match-suite",
            &out_dir.join("customers").to_string_lossy(),
            "--matcher",
            "name",
        ])
        .await?;
    let json: Value = serde_json::from_str(out.trim())?;
    let pairs = json["pairs"].as_array().context("pairs")?;
    assert_eq!(pairs.len(), 20);
    let f1: Vec<f64> = pairs
        .iter()
        .map(|p| p["metrics"]["f1"].as_f64().unwrap_or(-1.0))
        .collect();
    assert!(f1.iter().all(|f| (0.0..=1.0).contains(f)), "{f1:?}");
    assert!(f1.iter().sum::<f64>() / 20.0 >= 0.8, "{f1:?}");
    let err = t
        .run_err(&["eval", "match-suite", &t.src("nothing").to_string_lossy()])
        .await;
    assert!(err.contains("nothing"), "{err}");
    Ok(())
}
