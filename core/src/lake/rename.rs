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
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[tokio::test]
    async fn a_renamed_dataset_keeps_its_rows_and_versions() {
        let dir = tempfile::tempdir().unwrap();
        let mut lake = Lake::init(&dir.path().join("lake")).await.unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let rows = |n: i64| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from_iter_values(0..n))],
            )
            .unwrap()
        };
        lake.write_table("a", schema.clone(), vec![rows(3)])
            .await
            .unwrap();
        lake.write_table("a", schema.clone(), vec![rows(4)])
            .await
            .unwrap();
        lake.write_table("b", schema.clone(), vec![rows(1)])
            .await
            .unwrap();
        let dir_before = lake.entry("a").unwrap().dir.clone();

        let taken = lake.rename_dataset("a", "b").await.unwrap_err();
        assert!(
            matches!(taken, LakeError::NameTaken { ref name } if name == "b"),
            "{taken}"
        );
        let bad = lake.rename_dataset("a", "../x").await.unwrap_err();
        assert!(matches!(bad, LakeError::BadName(_)), "{bad}");

        lake.rename_dataset("a", "counts").await.unwrap();
        assert_eq!(lake.dataset_names(), ["b", "counts"]);
        assert_eq!(lake.entry("counts").unwrap().dir, dir_before);
        // Another process sees it under the new name, every version intact.
        let other = Lake::open(lake.dir()).await.unwrap();
        let versions: Vec<u64> = other
            .versions("counts")
            .await
            .unwrap()
            .iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(versions, [1, 2]);
        let engine = crate::sql::SqlEngine::new(&other);
        let count = engine
            .query("SELECT count(*) AS c FROM counts")
            .await
            .unwrap();
        let text = crate::render::render_batches(
            &count.schema,
            &count.batches,
            crate::render::OutputFormat::Csv,
        )
        .unwrap();
        assert_eq!(text, "c\n4\n");
        let gone = other.entry("a").unwrap_err();
        assert!(matches!(gone, LakeError::NoSuchDataset { .. }), "{gone}");
    }
}
