//! The one harness every end-to-end test goes through.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

/// A temp folder with a lake in `lake/` and source files in `src/`.
pub struct TestLake {
    dir: tempfile::TempDir,
}

impl TestLake {
    pub fn new() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("src"))?;
        Ok(Self { dir })
    }

    /// The lake folder.
    pub fn lake(&self) -> PathBuf {
        self.dir.path().join("lake")
    }

    /// Writes a source file under `src/` and returns its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf> {
        let p = self.dir.path().join("src").join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, contents)?;
        Ok(p)
    }

    /// A path under `src/` (not created).
    pub fn src(&self, name: &str) -> PathBuf {
        self.dir.path().join("src").join(name)
    }

    /// Runs `lakebook --lake LAKE ARGS...` in-process and returns its output.
    pub async fn run(&self, args: &[&str]) -> Result<String> {
        let lake = self.lake().to_string_lossy().into_owned();
        let mut all = vec!["--lake".to_string(), lake];
        all.extend(args.iter().map(|s| s.to_string()));
        lakebook::cli::run_to_string(all).await
    }

    /// Runs a command and returns its error text (fails the test if it succeeds).
    pub async fn run_err(&self, args: &[&str]) -> String {
        match self.run(args).await {
            Ok(out) => panic!("expected {args:?} to fail, it printed:\n{out}"),
            Err(e) => format!("{e:#}"),
        }
    }

    /// Ingests paths with extra flags.
    pub async fn ingest(&self, paths: &[&Path], flags: &[&str]) -> Result<String> {
        let mut args: Vec<String> = vec!["ingest".into()];
        args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
        args.extend(flags.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&refs).await
    }

    /// Runs a query and returns its rows as JSON objects.
    pub async fn sql(&self, query: &str) -> Result<Vec<Value>> {
        let out = self.run(&["sql", query, "--format", "json"]).await?;
        Ok(serde_json::from_str(out.trim())?)
    }

    /// One value: the first column of the first row.
    pub async fn scalar(&self, query: &str) -> Result<Value> {
        let rows = self.sql(query).await?;
        let first = rows
            .first()
            .and_then(Value::as_object)
            .and_then(|o| o.values().next())
            .cloned();
        first.ok_or_else(|| anyhow::anyhow!("no rows from {query}"))
    }

    /// Column name -> Arrow type of a dataset.
    pub async fn schema(&self, name: &str) -> Result<BTreeMap<String, String>> {
        let out = self.run(&["schema", name, "--format", "json"]).await?;
        let rows: Vec<Value> = serde_json::from_str(out.trim())?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r["column"].as_str().unwrap_or_default().to_string(),
                    r["type"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }

    /// Everything on disk in the lake: every file with its size, and the catalog's text.
    pub fn snapshot(&self) -> Result<(BTreeMap<String, u64>, String)> {
        let mut files = BTreeMap::new();
        let root = self.lake();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d)? {
                let e = e?;
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if is_lock_file(&root, &p) {
                    // Empty files writers lock to coordinate; they hold no data.
                    continue;
                } else {
                    let rel = p.strip_prefix(&root)?.to_string_lossy().into_owned();
                    files.insert(rel, e.metadata()?.len());
                }
            }
        }
        let catalog = std::fs::read_to_string(root.join("lake.json"))?;
        Ok((files, catalog))
    }
}

/// Whether `path` is one of the lake's coordination lock files (`.lakebook/**/*.lock`).
fn is_lock_file(root: &Path, path: &Path) -> bool {
    path.starts_with(root.join(".lakebook")) && path.extension().is_some_and(|e| e == "lock")
}

/// The demo sources in this checkout.
pub fn demo_assets() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/demo"))
}
