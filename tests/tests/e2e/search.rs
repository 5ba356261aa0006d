//! Embedding datasets and searching them: semantic, full-text, hybrid, lake-wide.

use std::sync::Arc;

use anyhow::{Context, Result};
use lakebook_core::embed::{EmbedError, EmbedRequest, MiniLm, embed_dataset, locate_model};
use lakebook_core::{Job, Lake};
use serde_json::Value;

use crate::support::TestLake;

/// Six short documents on unrelated topics, one of them Markdown.
fn write_topic_docs(t: &TestLake) -> Result<()> {
    t.file(
        "docs/bread.txt",
        "Baking sourdough bread. A sourdough loaf rises slowly because wild yeast ferments the dough overnight. Bake it in a hot oven until the crust is dark and crackles.",
    )?;
    t.file(
        "docs/orbits.txt",
        "Planetary orbits. A planet moves fastest at perihelion, the point of its orbit closest to the Sun, and slowest at aphelion, far from it.",
    )?;
    t.file(
        "docs/rust.md",
        "# Ownership in Rust\n\nThe borrow checker makes sure every value has one owner, and that references never outlive the data they point to.",
    )?;
    t.file(
        "docs/tides.txt",
        "Ocean tides. The Moon's gravity pulls the sea into two bulges, so most coasts see two high tides and two low tides each day.",
    )?;
    t.file(
        "docs/bees.txt",
        "Honey bees. Worker bees dance to tell their sisters where flowers are: the angle of the waggle run points toward the nectar.",
    )?;
    t.file(
        "docs/chess.txt",
        "Chess openings. The Sicilian Defence answers the king's pawn with the c-pawn and leads to sharp, unbalanced positions.",
    )?;
    Ok(())
}

async fn search_json(t: &TestLake, args: &[&str]) -> Result<Value> {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = t.run(&all).await?;
    Ok(serde_json::from_str(out.trim())?)
}

fn hits(result: &Value) -> Vec<Value> {
    result["hits"].as_array().cloned().unwrap_or_default()
}

fn catalog(t: &TestLake) -> Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(
        t.lake().join("lake.json"),
    )?)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_documents_are_found_by_meaning_words_and_both() -> Result<()> {
    let t = TestLake::new()?;
    write_topic_docs(&t)?;
    t.ingest(&[&t.src("docs")], &[]).await?;
    let out = t.run(&["embed", "documents"]).await?;
    assert!(
        out.contains("embedded 6 rows from text into 'embedding'"),
        "{out}"
    );
    assert!(out.contains("full-text index on text: built"), "{out}");

    // The vectors are a FixedSizeList<Float32, 384> column of a new version.
    let schema = t.schema("documents").await?;
    let vector_type = schema.get("embedding").context("embedding column")?;
    assert!(
        vector_type.contains("FixedSizeList") && vector_type.contains("384"),
        "{vector_type}"
    );
    let with_vectors = t
        .scalar("SELECT count(*) FROM documents WHERE embedding IS NOT NULL")
        .await?;
    assert_eq!(with_vectors, 6);
    assert_eq!(
        t.scalar(r#"SELECT count(*) FROM "documents@1""#).await?,
        6,
        "the version before the vectors is still readable"
    );
    let entry = &catalog(&t)?["datasets"]["documents"]["embedding"];
    assert_eq!(entry["model"], "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(entry["source_columns"][0], "text");
    assert_eq!(entry["rows_with_vector"], 6);

    // Semantic: a paraphrase with none of the document's words.
    let r = search_json(
        &t,
        &[
            "documents",
            "how do ocean waters rise and fall",
            "--mode",
            "semantic",
            "-k",
            "3",
        ],
    )
    .await?;
    let top = &hits(&r)[0];
    assert!(
        top["path"]
            .as_str()
            .unwrap_or_default()
            .ends_with("tides.txt"),
        "{r}"
    );
    let score = top["score"].as_f64().context("score")?;
    assert!(score > 0.3 && score <= 1.0001, "{score}");
    assert_eq!(hits(&r).len(), 3);
    assert_eq!(r["mode"], "semantic");

    // Full text: BM25 on a word only one document has, stemmed ("orbit" matches "orbits").
    let r = search_json(&t, &["documents", "perihelion orbit", "--mode", "fulltext"]).await?;
    let found = hits(&r);
    assert_eq!(found.len(), 1, "{r}");
    assert!(
        found[0]["path"]
            .as_str()
            .unwrap_or_default()
            .ends_with("orbits.txt")
    );
    assert!(found[0]["char_start"].is_number() && found[0]["doc_id"].is_string());

    // Hybrid (the default) agrees with both when they agree.
    let r = search_json(&t, &["documents", "sourdough loaf in the oven"]).await?;
    assert_eq!(r["mode"], "hybrid");
    assert!(
        hits(&r)[0]["path"]
            .as_str()
            .unwrap_or_default()
            .ends_with("bread.txt"),
        "{r}"
    );

    // --where filters before ranking.
    let r = search_json(
        &t,
        &[
            "documents",
            "bread",
            "--mode",
            "semantic",
            "--where",
            "format = 'md'",
        ],
    )
    .await?;
    let found = hits(&r);
    assert_eq!(found.len(), 1, "{r}");
    assert!(
        found[0]["path"]
            .as_str()
            .unwrap_or_default()
            .ends_with("rust.md")
    );

    // Every row's vector is that row's text: searching a passage's own text finds it first, at cosine ~1.
    let rows = t.sql("SELECT path, text FROM documents").await?;
    for row in rows {
        let text = row["text"].as_str().unwrap_or_default();
        let r = search_json(&t, &["documents", text, "--mode", "semantic", "-k", "1"]).await?;
        let top = &hits(&r)[0];
        assert_eq!(top["path"], row["path"]);
        assert!(top["score"].as_f64().unwrap_or_default() > 0.999, "{r}");
    }

    // The table view shows the hits with their score and cut text.
    let table = t
        .run(&["search", "documents", "bees and flowers", "-k", "2"])
        .await?;
    assert!(
        table.contains("documents (documents, hybrid search): 2 hits"),
        "{table}"
    );
    assert!(
        table.contains("bees.txt") && table.contains("score"),
        "{table}"
    );
    Ok(())
}

/// The colour and kind of product number `i` ("red tent").
fn product(i: usize) -> String {
    let things = [
        "tent",
        "stove",
        "lantern",
        "backpack",
        "sleeping bag",
        "kayak",
        "rope",
        "compass",
    ];
    let colours = ["red", "green", "blue", "orange", "grey"];
    format!(
        "{} {}",
        colours[i % colours.len()],
        things[i % things.len()]
    )
}

fn product_rows(from: usize, to: usize) -> String {
    let mut csv = String::from("id,name,description,price\n");
    for i in from..to {
        let product = product(i);
        csv.push_str(&format!(
            "{i},{product} {i},A {product} for trip number {i},{}.5\n",
            10 + i % 90
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_append_only_the_new_rows_are_embedded() -> Result<()> {
    let t = TestLake::new()?;
    let first = t.file("products.csv", product_rows(0, 300))?;
    t.ingest(&[&first], &[]).await?;
    let out = t
        .run(&["embed", "products", "--index-min-rows", "256"])
        .await?;
    assert!(
        out.contains("embedded 300 rows from name, description"),
        "{out}"
    );
    assert!(out.contains("vector index embedding_idx: built"), "{out}");

    let more = t.file("more.csv", product_rows(300, 340))?;
    t.ingest(&[&more], &["--name", "products", "--mode", "append"])
        .await?;
    assert_eq!(t.scalar("SELECT count(*) FROM products").await?, 340);
    assert_eq!(
        t.scalar("SELECT count(*) FROM products WHERE embedding IS NULL")
            .await?,
        40
    );
    // Searching now says the new rows are not embedded yet.
    let r = search_json(&t, &["products", "kayak", "--mode", "semantic"]).await?;
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("40 rows added since the last embed"),
        "{notes}"
    );

    let out = t
        .run(&["embed", "products", "--index-min-rows", "256"])
        .await?;
    assert!(out.contains("embedded 40 rows"), "{out}");
    assert!(out.contains("300 rows already had vectors"), "{out}");
    assert!(out.contains("vector index embedding_idx: updated"), "{out}");
    assert_eq!(
        t.scalar("SELECT count(*) FROM products WHERE embedding IS NOT NULL")
            .await?,
        340
    );
    // An appended row is found by its own text, through the index.
    let r = search_json(
        &t,
        &[
            "products",
            "name: grey compass 319; description: A grey compass for trip number 319",
            "--mode",
            "semantic",
            "-k",
            "1",
        ],
    )
    .await?;
    assert_eq!(hits(&r)[0]["id"], 319, "{r}");
    assert!(hits(&r)[0]["score"].as_f64().unwrap_or_default() > 0.999);
    assert!(r["notes"].as_array().is_none_or(Vec::is_empty), "{r}");

    let out = t.run(&["embed", "products"]).await?;
    assert!(out.contains("all 340 rows already have vectors"), "{out}");

    // Other columns need --rebuild, which replaces every vector.
    let err = t
        .run_err(&["embed", "products", "--columns", "description"])
        .await;
    assert!(err.contains("--rebuild"), "{err}");
    let out = t
        .run(&["embed", "products", "--columns", "description", "--rebuild"])
        .await?;
    assert!(out.contains("embedded 340 rows from description"), "{out}");
    let r = search_json(
        &t,
        &[
            "products",
            "A red tent for trip number 0",
            "--mode",
            "semantic",
            "-k",
            "1",
        ],
    )
    .await?;
    assert_eq!(hits(&r)[0]["id"], 0, "{r}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_embed_keeps_finished_batches_and_resumes() -> Result<()> {
    let t = TestLake::new()?;
    let csv = t.file("items.csv", product_rows(0, 1300))?;
    t.ingest(&[&csv], &[]).await?;
    let model = Arc::new(MiniLm::load(&locate_model(None)?.dir)?);
    let request = EmbedRequest {
        name: "items".into(),
        columns: Some(vec!["description".into()]),
        rebuild: false,
    };

    let mut lake = Lake::open(&t.lake()).await?;
    let job = Job::new();
    let watcher = job.clone();
    let cancel = tokio::spawn(async move {
        while watcher.snapshot().done < 500 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        watcher.cancel();
    });
    let err = embed_dataset(&mut lake, model.clone(), &request, &job)
        .await
        .err()
        .context("the cancelled run must stop")?;
    cancel.await?;
    assert!(matches!(err, EmbedError::Cancelled), "{err}");
    // Nothing half-written: the column exists, but no row has a vector yet.
    assert_eq!(
        t.scalar("SELECT count(*) FROM items WHERE embedding IS NOT NULL")
            .await?,
        0
    );

    let mut lake = Lake::open(&t.lake()).await?;
    let report = embed_dataset(&mut lake, model.clone(), &request, &Job::new()).await?;
    assert!(report.resumed >= 500, "{report:?}");
    assert_eq!(report.embedded, 1300);
    assert_eq!(
        t.scalar("SELECT count(*) FROM items WHERE embedding IS NOT NULL")
            .await?,
        1300
    );
    // A row from the resumed part and one from the fresh part both carry their own vector.
    for id in [3, 1250] {
        let text = format!("A {} for trip number {id}", product(id));
        let r = search_json(&t, &["items", &text, "--mode", "semantic", "-k", "1"]).await?;
        assert_eq!(hits(&r)[0]["id"], id, "{r}");
    }
    // The checkpoint is gone once committed (the writers' empty lock files stay).
    let leftovers: Vec<_> = walk_files(&t.lake().join(".lakebook"))
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    Ok(())
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blank_huge_and_odd_texts_embed_and_bad_requests_are_clear() -> Result<()> {
    let t = TestLake::new()?;
    let huge = "lorem ipsum dolor ".repeat(60_000); // ~1 MB in one cell
    let csv = format!(
        "id,note\n1,\n2,\"   \"\n3,{huge}\n4,\"\u{1}\u{7f} \u{fffd}\u{fffd} ☃ 東京 ∑∫ 🙂\"\n5,A note about the weather in Lisbon\n"
    );
    let file = t.file("notes.csv", csv)?;
    t.ingest(&[&file], &[]).await?;

    let err = t.run_err(&["search", "notes", "weather"]).await;
    assert!(
        err.contains("has no embeddings yet") && err.contains("lakebook embed notes"),
        "{err}"
    );
    let err = t.run_err(&["embed", "notes", "--columns", "nope"]).await;
    assert!(
        err.contains("no column 'nope'") && err.contains("id, note"),
        "{err}"
    );
    let err = t.run_err(&["embed", "nosuch"]).await;
    assert!(err.contains("nosuch"), "{err}");

    // A broken model folder is refused before anything is written.
    let before = t.snapshot()?;
    let broken = t.src("broken-model");
    std::fs::create_dir_all(&broken)?;
    std::fs::write(broken.join("config.json"), "{}")?;
    let err = t
        .run_err(&["embed", "notes", "--model", &broken.to_string_lossy()])
        .await;
    assert!(err.contains("broken-model"), "{err}");
    assert_eq!(t.snapshot()?, before);

    let out = t.run(&["embed", "notes"]).await?;
    assert!(out.contains("embedded 5 rows"), "{out}");
    assert!(out.contains("2 rows have no text"), "{out}");
    assert_eq!(
        t.scalar("SELECT count(*) FROM notes WHERE embedding IS NOT NULL")
            .await?,
        3
    );
    let r = search_json(
        &t,
        &["notes", "rain and sunshine forecast", "--mode", "semantic"],
    )
    .await?;
    let found = hits(&r);
    assert_eq!(found.len(), 3, "rows without text are never hits: {r}");
    assert_eq!(found[0]["id"], 5);

    let err = t.run_err(&["search", "notes", "   "]).await;
    assert!(err.contains("query is empty"), "{err}");
    let err = t
        .run_err(&["search", "notes", "weather", "--where", "nosuch = 1"])
        .await;
    assert!(
        err.contains("the filter `nosuch = 1` does not work on 'notes'"),
        "{err}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searching_the_lake_groups_hits_by_dataset() -> Result<()> {
    let t = TestLake::new()?;
    write_topic_docs(&t)?;
    t.ingest(&[&t.src("docs")], &[]).await?;
    let csv = t.file("recipes.csv", "dish,method\nFocaccia,Stretch the dough in an oiled pan and bake in a hot oven\nGazpacho,Blend raw tomatoes with cucumber and serve it cold\n")?;
    t.ingest(&[&csv], &[]).await?;
    let csv = t.file("plain.csv", "a,b\n1,2\n")?;
    t.ingest(&[&csv], &[]).await?;
    t.run(&["embed", "documents"]).await?;
    t.run(&["embed", "recipes"]).await?;

    let out = t
        .run(&[
            "search",
            "baking bread in an oven",
            "-k",
            "2",
            "--format",
            "json",
        ])
        .await?;
    let groups: Vec<Value> = serde_json::from_str(out.trim())?;
    let names: Vec<&str> = groups
        .iter()
        .filter_map(|g| g["dataset"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "only embedded datasets answer: {out}");
    assert!(names.contains(&"documents") && names.contains(&"recipes"));
    for g in &groups {
        assert!(hits(g).len() <= 2);
    }
    let best = |g: &Value| hits(g)[0]["score"].as_f64().unwrap_or_default();
    assert!(
        best(&groups[0]) >= best(&groups[1]),
        "best group first: {out}"
    );

    let table = t
        .run(&[
            "search",
            "cold tomato soup",
            "--mode",
            "semantic",
            "-k",
            "1",
        ])
        .await?;
    assert!(
        table.contains("recipes (table, semantic search): 1 hit"),
        "{table}"
    );
    assert!(table.contains("Gazpacho"), "{table}");
    Ok(())
}
