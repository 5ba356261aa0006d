//! `bench embed` and `bench search`: the model's speed, and indexed against
//! exact semantic search.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use lakebook_core::Lake;
use lakebook_core::embed;
use lakebook_core::search::{self, SearchMode, SearchRequest};

/// One text per line: a JSON string, or the line itself.
fn read_lines(file: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut texts: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let t = if line.starts_with('"') {
            serde_json::from_str::<String>(line)
                .map_err(|e| anyhow::anyhow!("{} line {}: {e}", file.display(), n + 1))?
        } else {
            line.to_string()
        };
        texts.push(t);
    }
    Ok(texts)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn latency_summary(mut ms: Vec<f64>) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    serde_json::json!({
        "p50_ms": percentile(&ms, 50.0),
        "p95_ms": percentile(&ms, 95.0),
        "max_ms": ms.last().copied().unwrap_or(0.0),
        "mean_ms": mean,
    })
}

/// `bench search`: indexed vs exact semantic search over the same query vectors.
pub(super) async fn run_search_bench(
    lake_dir: &Path,
    name: &str,
    queries: &Path,
    k: usize,
    model_dir: Option<&Path>,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let lake = Lake::open(lake_dir).await?;
    let rows = lake.entry(name)?.rows;
    let texts = read_lines(queries)?;
    let model = embed::load_model(model_dir)?;
    let mut embed_ms = Vec::new();
    let mut vectors = Vec::new();
    for t in &texts {
        let started = std::time::Instant::now();
        let mut v = model.embed(&[t.as_str()])?;
        embed_ms.push(started.elapsed().as_secs_f64() * 1e3);
        vectors.push(v.pop().unwrap_or_default());
    }
    let request = |exact| SearchRequest {
        query: "bench".to_string(),
        mode: SearchMode::Semantic,
        k: k.max(1),
        filter: None,
        exact,
    };
    let (indexed, exact) = (request(false), request(true));
    // Warm-up: open files, load the index.
    for v in vectors.iter().take(5) {
        search::search_dataset_by_vector(&lake, name, v, &indexed).await?;
        search::search_dataset_by_vector(&lake, name, v, &exact).await?;
    }
    let mut indexed_ms = Vec::new();
    let mut exact_ms = Vec::new();
    let mut recall_sum = 0.0;
    for v in &vectors {
        let started = std::time::Instant::now();
        let fast = search::search_dataset_by_vector(&lake, name, v, &indexed).await?;
        indexed_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let started = std::time::Instant::now();
        let truth = search::search_dataset_by_vector(&lake, name, v, &exact).await?;
        exact_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let truth: std::collections::HashSet<u64> = truth.row_ids.iter().copied().collect();
        let found = fast.row_ids.iter().filter(|id| truth.contains(id)).count();
        recall_sum += found as f64 / truth.len().max(1) as f64;
    }
    let indexed_summary = latency_summary(indexed_ms);
    let exact_summary = latency_summary(exact_ms);
    let speedup = exact_summary["p50_ms"].as_f64().unwrap_or(0.0)
        / indexed_summary["p50_ms"].as_f64().unwrap_or(1.0).max(1e-9);
    let report = serde_json::json!({
        "dataset": name,
        "rows": rows,
        "queries": texts.len(),
        "k": k,
        "indexed": indexed_summary,
        "exact": exact_summary,
        "query_embedding": latency_summary(embed_ms),
        "recall_at_k": recall_sum / vectors.len().max(1) as f64,
        "speedup_p50": speedup,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    Ok(())
}

/// `bench embed FILE`: embeds the texts of FILE and reports the speed.
pub(super) fn run_embed_bench(
    file: &Path,
    model_dir: Option<&Path>,
    limit: Option<usize>,
    vectors_out: Option<&Path>,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let mut texts = read_lines(file)?;
    if let Some(limit) = limit {
        texts.truncate(limit);
    }
    let model = embed::load_model(model_dir)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut tokens = 0usize;
    for t in &refs {
        tokens += model.token_count(t)?;
    }
    // One small warm-up so first-touch costs are not timed.
    model.embed(&refs[..refs.len().min(8)])?;
    let started = std::time::Instant::now();
    let vectors = model.embed(&refs)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = vectors_out {
        let mut bytes = Vec::with_capacity(vectors.len() * embed::EMBEDDING_DIM * 4);
        for v in &vectors {
            for x in v {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
        }
        std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let report = serde_json::json!({
        "texts": texts.len(),
        "tokens": tokens,
        "seconds": seconds,
        "texts_per_s": texts.len() as f64 / seconds.max(1e-9),
        "tokens_per_s": tokens as f64 / seconds.max(1e-9),
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    Ok(())
}
