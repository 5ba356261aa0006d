//! Where the embedding model is found, in order of precedence.

use std::path::{Path, PathBuf};

use super::EmbedError;

/// The model Lakebook embeds with.
pub const MODEL_NAME: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// Files a model folder must hold.
const REQUIRED: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// A model folder and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSource {
    /// The folder with `config.json`, `tokenizer.json`, `model.safetensors`.
    pub dir: PathBuf,
    /// How it was found: `--model`, `LAKEBOOK_MODEL`, `Lakebook data dir`, `Hugging Face cache`.
    pub found_by: &'static str,
}

/// Lakebook's own model folder: `models/all-MiniLM-L6-v2` in the data folder
/// ([`crate::files::data_dir`]; `~/.local/share/lakebook` on Linux).
pub fn data_dir_model() -> PathBuf {
    crate::files::data_dir()
        .join("models")
        .join("all-MiniLM-L6-v2")
}

/// The user's home folder (the Hugging Face cache lives under it on every platform).
fn home() -> PathBuf {
    dirs::home_dir().unwrap_or_else(|| PathBuf::from("."))
}

/// Snapshots of the model in a Hugging Face hub cache, newest first.
fn hugging_face_snapshots() -> Vec<PathBuf> {
    let hub = std::env::var_os("HF_HUB_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HF_HOME").map(|h| PathBuf::from(h).join("hub")))
        .unwrap_or_else(|| home().join(".cache").join("huggingface").join("hub"));
    let snapshots = hub
        .join("models--sentence-transformers--all-MiniLM-L6-v2")
        .join("snapshots");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&snapshots)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| {
                    let t = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    (t, e.path())
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    found.into_iter().map(|(_, p)| p).collect()
}

/// Checks that a folder holds the files of a model.
pub(crate) fn check_dir(dir: &Path) -> Result<(), EmbedError> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|f| !dir.join(f).is_file())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(EmbedError::BadModel {
            dir: dir.to_path_buf(),
            reason: format!("missing {}", missing.join(", ")),
        })
    }
}

/// Finds the model: `explicit` (from `--model`), then `LAKEBOOK_MODEL`, then
/// Lakebook's data dir, then a Hugging Face cache snapshot.
///
/// A folder named explicitly (flag or variable) must be a model; the others are
/// skipped when incomplete.
pub fn locate_model(explicit: Option<&Path>) -> Result<ModelSource, EmbedError> {
    if let Some(dir) = explicit {
        check_dir(dir)?;
        return Ok(ModelSource {
            dir: dir.to_path_buf(),
            found_by: "--model",
        });
    }
    if let Some(dir) = std::env::var_os("LAKEBOOK_MODEL").map(PathBuf::from) {
        check_dir(&dir)?;
        return Ok(ModelSource {
            dir,
            found_by: "LAKEBOOK_MODEL",
        });
    }
    let mut searched: Vec<String> = ["--model", "LAKEBOOK_MODEL"].map(String::from).to_vec();
    let data = data_dir_model();
    if check_dir(&data).is_ok() {
        return Ok(ModelSource {
            dir: data,
            found_by: "Lakebook data dir",
        });
    }
    searched.push(data.display().to_string());
    for snap in hugging_face_snapshots() {
        if check_dir(&snap).is_ok() {
            return Ok(ModelSource {
                dir: snap,
                found_by: "Hugging Face cache",
            });
        }
        searched.push(snap.display().to_string());
    }
    searched.push("the Hugging Face cache".into());
    Err(EmbedError::NotFound {
        searched: searched.join(", "),
        data_dir: data_dir_model(),
    })
}

/// The model found as [`locate_model`] finds it, loaded.
pub fn load_model(explicit: Option<&Path>) -> Result<super::MiniLm, EmbedError> {
    super::MiniLm::load(&locate_model(explicit)?.dir)
}
