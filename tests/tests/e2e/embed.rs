//! The embedding model: found on disk, loaded with candle, equal to sentence-transformers.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lakebook_core::embed::{EMBEDDING_DIM, EmbedError, MiniLm, locate_model};
use serde_json::Value;

use crate::support::TestLake;

fn fixture() -> Result<Value> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/minilm_reference.json"
    ));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * y).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|y| y.powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn every_reference_vector_is_reproduced() -> Result<()> {
    let fixture = fixture()?;
    let source = locate_model(None)?;
    let model = MiniLm::load(&source.dir)?;
    let items = fixture["items"].as_array().context("fixture items")?;
    let texts: Vec<&str> = items
        .iter()
        .map(|i| i["text"].as_str().unwrap_or_default())
        .collect();
    let got = model.embed(&texts)?;
    assert_eq!(got.len(), items.len());
    for (item, vector) in items.iter().zip(&got) {
        let want: Vec<f64> = item["vector"]
            .as_array()
            .context("vector")?
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        assert_eq!(vector.len(), EMBEDDING_DIM);
        let c = cosine(vector, &want);
        let text: String = item["text"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(60)
            .collect();
        assert!(c >= 0.9999, "cosine {c:.6} for {text:?}");
        if let Some(n) = item["n_tokens"].as_u64() {
            assert_eq!(
                model.token_count(item["text"].as_str().unwrap_or_default())? as u64,
                n,
                "{text:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn broken_model_folders_are_clear_errors() -> Result<()> {
    let t = TestLake::new()?;
    let good = locate_model(None)?.dir;
    let dir = t.src("model");
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(good.join("config.json"), dir.join("config.json"))?;
    let err = MiniLm::load(&dir)
        .err()
        .context("a folder without weights must fail")?;
    assert!(matches!(err, EmbedError::BadModel { .. }));
    assert!(
        err.to_string()
            .contains("tokenizer.json, model.safetensors"),
        "{err}"
    );

    std::os::unix::fs::symlink(good.join("tokenizer.json"), dir.join("tokenizer.json"))?;
    std::os::unix::fs::symlink(
        good.join("model.safetensors"),
        dir.join("model.safetensors"),
    )?;
    let config = std::fs::read_to_string(good.join("config.json"))?
        .replace("\"hidden_size\": 384", "\"hidden_size\": 768");
    std::fs::write(dir.join("config.json"), config)?;
    let err = MiniLm::load(&dir)
        .err()
        .context("wrong dimensions must fail")?;
    assert!(err.to_string().contains("hidden size is 768"), "{err}");

    let err = locate_model(Some(&t.src("nowhere")))
        .err()
        .context("a missing folder must fail")?;
    assert!(err.to_string().contains("missing config.json"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_info_says_where_the_model_is() -> Result<()> {
    let t = TestLake::new()?;
    let out = t.run(&["model", "info"]).await?;
    assert!(
        out.contains("all-MiniLM-L6-v2") && out.contains("found by:") && out.contains("384"),
        "{out}"
    );
    Ok(())
}
