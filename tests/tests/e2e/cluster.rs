//! Subpopulation clustering: planted groups in a table's columns and in
//! embedded texts, their descriptions, slices, and awkward input.

use anyhow::Result;
use serde_json::Value;

use crate::support::TestLake;

/// Adjusted Rand index of two labelings (for planted groups).
fn ari(a: &[i64], b: &[i64]) -> f64 {
    use std::collections::HashMap;
    let n = a.len() as f64;
    let mut pairs: HashMap<(i64, i64), f64> = HashMap::new();
    let (mut rows, mut cols): (HashMap<i64, f64>, HashMap<i64, f64>) = Default::default();
    for (x, y) in a.iter().zip(b) {
        *pairs.entry((*x, *y)).or_default() += 1.0;
        *rows.entry(*x).or_default() += 1.0;
        *cols.entry(*y).or_default() += 1.0;
    }
    let c2 = |v: f64| v * (v - 1.0) / 2.0;
    let index: f64 = pairs.values().map(|v| c2(*v)).sum();
    let (sa, sb): (f64, f64) = (
        rows.values().map(|v| c2(*v)).sum(),
        cols.values().map(|v| c2(*v)).sum(),
    );
    let expected = sa * sb / c2(n);
    (index - expected) / ((sa + sb) / 2.0 - expected)
}

/// 300 people in three planted groups that differ by region, age and spend.
fn people_csv() -> (String, Vec<i64>) {
    let mut csv = String::from("person_id,region,age,spend\n");
    let mut truth = Vec::new();
    for i in 0..300i64 {
        let g = i % 3;
        // Spread within a group: two independent, evenly spread offsets in [0, 1).
        let u = (i * 7919 % 997) as f64 / 997.0;
        let v = (i * 104_729 % 991) as f64 / 991.0;
        let (region, age, spend) = match g {
            0 => {
                let region = if i % 10 == 0 { "south" } else { "north" };
                (region, 25.0 + u * 8.0, 40.0 + v * 20.0)
            }
            1 => ("east", 45.0 + u * 8.0, 400.0 + v * 60.0),
            _ => ("west", 68.0 + u * 8.0, 150.0 + v * 30.0),
        };
        csv.push_str(&format!("{i},{region},{age:.0},{spend:.2}\n"));
        truth.push(g);
    }
    (csv, truth)
}

#[tokio::test]
async fn planted_groups_in_columns_are_found_and_described() -> Result<()> {
    let t = TestLake::new()?;
    let (csv, truth) = people_csv();
    let file = t.file("people.csv", csv)?;
    t.ingest(&[&file], &[]).await?;
    let out = t.run(&["cluster", "people", "--format", "json"]).await?;
    let report: Value = serde_json::from_str(&out)?;
    assert_eq!(
        report["clusters"], 3,
        "k chosen by silhouette: {}",
        report["silhouettes"]
    );
    let labels: Vec<i64> = report["labels"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    assert!(ari(&labels, &truth) > 0.95, "ARI {}", ari(&labels, &truth));
    // The identifier is not a feature; the people in the east spend more.
    assert!(
        report["notes"].to_string().contains("person_id"),
        "{}",
        report["notes"]
    );
    let subpopulations = report["subpopulations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let east = subpopulations
        .iter()
        .find(|s| s["attributes"].to_string().contains("region = east"))
        .expect("a cluster set apart by region = east");
    assert!(
        east["attributes"]
            .to_string()
            .contains("(100% vs 33% overall)"),
        "{east}"
    );
    assert!(east["attributes"].to_string().contains("spend"), "{east}");
    let text = t.run(&["cluster", "people", "--k", "3"]).await?;
    assert!(text.contains("by dimension:"), "{text}");
    assert!(text.contains("region = north"), "{text}");

    // A cluster saved as a slice is a dataset of exactly its rows.
    let id = east["id"].as_i64().unwrap_or(-1).to_string();
    let out = t
        .run(&[
            "cluster",
            "people",
            "--k",
            "3",
            "--save",
            &id,
            "--as",
            "east_people",
        ])
        .await?;
    assert!(
        out.contains("100 rows saved as dataset east_people"),
        "{out}"
    );
    assert_eq!(
        t.scalar("SELECT count(DISTINCT region) FROM east_people")
            .await?,
        1
    );
    let err = t
        .run_err(&[
            "cluster",
            "people",
            "--k",
            "3",
            "--save",
            &id,
            "--as",
            "east_people",
        ])
        .await;
    assert!(err.contains("already exists"), "{err}");
    Ok(())
}

#[tokio::test]
async fn passages_about_distinct_topics_get_labels_with_their_key_terms() -> Result<()> {
    let t = TestLake::new()?;
    let topics: [(&str, [&str; 6]); 3] = [
        (
            "coffee",
            ["espresso", "roast", "beans", "grinder", "brew", "crema"],
        ),
        (
            "astronomy",
            ["telescope", "comet", "orbit", "planets", "moon", "eclipse"],
        ),
        (
            "cycling",
            ["bicycle", "chain", "tyres", "gears", "saddle", "pedals"],
        ),
    ];
    let mut csv = String::from("note\n");
    for i in 0..40 {
        for (topic, words) in &topics {
            let a = words[i % 6];
            let b = words[(i / 6 + 1) % 6];
            let c = words[(i + 3) % 6];
            csv.push_str(&format!(
                "\"A note on {topic}: the {a} and the {b}, then the {c}.\"\n"
            ));
        }
    }
    let file = t.file("notes.csv", csv)?;
    t.ingest(&[&file], &[]).await?;
    t.run(&["embed", "notes", "--columns", "note"]).await?;
    let out = t
        .run(&["cluster", "notes", "--k", "3", "--format", "json"])
        .await?;
    let report: Value = serde_json::from_str(&out)?;
    assert_eq!(report["by"], "embedding");
    let labels: Vec<String> = report["subpopulations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["label"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(labels.len(), 3, "{labels:?}");
    for (topic, words) in &topics {
        assert!(
            labels
                .iter()
                .any(|l| l.contains(topic) || words.iter().filter(|w| l.contains(*w)).count() >= 2),
            "no label for {topic}: {labels:?}"
        );
    }
    // The scatter view's UMAP keeps each topic together: a point's nearest
    // neighbour in 2-D is almost always in its own cluster.
    assert_eq!(report["projected_by"], "umap");
    let points: Vec<(f64, f64, i64)> = report["projection"]
        .as_array()
        .expect("projection")
        .iter()
        .zip(report["labels"].as_array().expect("labels"))
        .map(|(p, l)| {
            (
                p[0].as_f64().unwrap_or(f64::NAN),
                p[1].as_f64().unwrap_or(f64::NAN),
                l.as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(points.len(), 120);
    assert!(points.iter().all(|p| p.0.is_finite() && p.1.is_finite()));
    let agreeing = points
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            let nearest = points
                .iter()
                .enumerate()
                .filter(|(j, _)| j != i)
                .min_by(|a, b| {
                    let da = (a.1.0 - p.0).powi(2) + (a.1.1 - p.1).powi(2);
                    let db = (b.1.0 - p.0).powi(2) + (b.1.1 - p.1).powi(2);
                    da.total_cmp(&db)
                })
                .map(|(_, q)| q.2);
            nearest == Some(p.2)
        })
        .count();
    assert!(
        agreeing >= 114,
        "{agreeing} of 120 points sit by their own cluster"
    );
    let out = t
        .run(&[
            "cluster",
            "notes",
            "--k",
            "3",
            "--projection",
            "pca",
            "--format",
            "json",
        ])
        .await?;
    let report: Value = serde_json::from_str(&out)?;
    assert_eq!(report["projected_by"], "pca");
    Ok(())
}

#[tokio::test]
async fn awkward_tables_get_sensible_output_or_a_clear_message() -> Result<()> {
    let t = TestLake::new()?;
    let few = t.file("few.csv", "x,y\n1,2\n3,4\n")?;
    let same = t.file("same.csv", format!("x,y\n{}", "1,2\n".repeat(50)))?;
    let words = t.file(
        "words.csv",
        format!(
            "w\n{}",
            (0..80).map(|i| format!("word{i}\n")).collect::<String>()
        ),
    )?;
    let nan = t.file(
        "nan.csv",
        format!(
            "x,y\n{}NaN,1\ninf,2\n",
            (0..40)
                .map(|i| format!("{},{}\n", i % 7, i % 5))
                .collect::<String>()
        ),
    )?;
    t.ingest(&[&few, &same, &words, &nan], &[]).await?;
    let err = t.run_err(&["cluster", "few", "--k", "5"]).await;
    assert!(err.contains("2 rows") || err.contains("fewer"), "{err}");
    let err = t.run_err(&["cluster", "same"]).await;
    assert!(err.contains("no column to cluster by"), "{err}");
    let err = t.run_err(&["cluster", "words"]).await;
    assert!(err.contains("no column to cluster by"), "{err}");
    let err = t.run_err(&["cluster", "words", "--by", "embedding"]).await;
    assert!(err.contains("has no embeddings"), "{err}");
    // Non-finite numbers are treated as missing, not as errors.
    let out = t
        .run(&["cluster", "nan", "--k", "2", "--format", "json"])
        .await?;
    let report: Value = serde_json::from_str(&out)?;
    assert_eq!(report["rows"], 42);
    Ok(())
}
