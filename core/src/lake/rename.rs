//! Renaming a dataset: its catalog entry moves to the new name; its folder,
//! its versions and everything in them stay where they are.

use super::{Lake, LakeError, check_dataset_name};

impl Lake {
    /// Gives dataset `from` the name `to`. The folder keeps its name (a
    /// reader holding the dataset open goes on reading it), so nothing is
    /// copied. A stored graph's node and edge datasets keep their names: the
    /// graph finds them by name.
    pub async fn rename_dataset(&mut self, from: &str, to: &str) -> Result<(), LakeError> {
        check_dataset_name(to)?;
        let held = self.lock().await?;
        self.reload_catalog(&held)?;
        self.entry(from)?;
        self.catalog.check_not_a_container(from)?;
        if let Some(graph) = crate::graph::graph_parts(self).remove(from) {
            return Err(LakeError::GraphPart {
                name: from.to_string(),
                graph,
            });
        }
        if from == to {
            return Ok(());
        }
        if self.catalog.datasets.contains_key(to) {
            return Err(LakeError::NameTaken {
                name: to.to_string(),
            });
        }
        self.update_catalog_locked(&held, |catalog| {
            if let Some(entry) = catalog.datasets.remove(from) {
                catalog.datasets.insert(to.to_string(), entry);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_renamed_dataset_keeps_its_rows_and_versions()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut lake = Lake::init(&dir.path().join("lake")).await?;
        crate::lake::write_counting_versions(&mut lake, "a", &[3, 4]).await?;
        crate::lake::write_counting_versions(&mut lake, "b", &[1]).await?;
        let dir_before = lake.entry("a")?.dir.clone();

        let taken = lake
            .rename_dataset("a", "b")
            .await
            .expect_err("it should fail");
        assert!(
            matches!(taken, LakeError::NameTaken { ref name } if name == "b"),
            "{taken}"
        );
        let bad = lake
            .rename_dataset("a", "../x")
            .await
            .expect_err("it should fail");
        assert!(matches!(bad, LakeError::BadName(_)), "{bad}");

        lake.rename_dataset("a", "counts").await?;
        assert_eq!(lake.dataset_names(), ["b", "counts"]);
        assert_eq!(lake.entry("counts")?.dir, dir_before);
        // Another process sees it under the new name, every version intact.
        let other = Lake::open(lake.dir()).await?;
        let versions: Vec<u64> = other
            .versions("counts")
            .await?
            .iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(versions, [1, 2]);
        let engine = crate::sql::SqlEngine::new(&other);
        let count = engine.query("SELECT count(*) AS c FROM counts").await?;
        let text = crate::render::render_batches(
            &count.schema,
            &count.batches,
            crate::render::OutputFormat::Csv,
        )?;
        assert_eq!(text, "c\n4\n");
        let gone = other.entry("a").expect_err("it should fail");
        assert!(matches!(gone, LakeError::NoSuchDataset { .. }), "{gone}");
        Ok(())
    }
}
