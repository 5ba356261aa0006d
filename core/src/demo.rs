//! The demo lake: built from the sources under `assets/demo/`.

use std::path::{Path, PathBuf};

use crate::ingest::{IngestError, IngestOptions, IngestReport, ingest};
use crate::job::Job;
use crate::lake::Lake;

/// Builds the demo lake in `lake_dir` from `assets_dir` (the `assets/demo` folder).
///
/// Tables come from `tables/`, documents from `docs/` (into the `documents`
/// dataset). A lake that already holds the demo datasets is left as it is and
/// `Ok(None)` is returned.
pub async fn build_demo(
    lake_dir: &Path,
    assets_dir: &Path,
    job: &Job,
) -> Result<Option<IngestReport>, IngestError> {
    let tables = assets_dir.join("tables");
    let docs = assets_dir.join("docs");
    for p in [&tables, &docs] {
        if !p.is_dir() {
            return Err(IngestError::Io {
                path: p.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the demo sources are missing; set LAKEBOOK_ASSETS to the assets folder of a Lakebook checkout",
                ),
            });
        }
    }
    let mut lake = Lake::open_or_init(lake_dir).await?;
    if lake.catalog().datasets.contains_key("customers")
        && lake.catalog().datasets.contains_key("documents")
    {
        return Ok(None);
    }
    let sources: Vec<PathBuf> = vec![tables, docs];
    let report = ingest(&mut lake, &sources, &IngestOptions::default(), job).await?;
    Ok(Some(report))
}
