//! Getting results out: a result table copied, saved as a CSV or Parquet
//! file, or saved as a new dataset in the lake, as a job with a notice at
//! the end.

use std::collections::HashMap;

use lakebook_core::result_file::{ResultFormat, save_batches, save_query};

use super::*;
use crate::gui::table_view::TableAction;

/// A result someone asked to save: the rows on screen, and the query that
/// gives all of them when only some are loaded.
#[derive(Debug, Clone)]
pub struct ResultToSave {
    /// Names the result in notices and file names ("c3").
    pub label: String,
    /// The rows loaded (the whole result when `query` is none).
    pub rows: arrow::array::RecordBatch,
    /// The cell's query and the dataset versions it read, when the result
    /// has more rows than are loaded: saving runs it again.
    pub query: Option<(String, HashMap<String, u64>)>,
}

impl LakebookApp {
    /// Carries out what a result table asked for: a notice, a save.
    /// `result` is the table's, given when the action saves it.
    pub(super) fn table_action(&mut self, action: TableAction, result: Option<ResultToSave>) {
        if let Some(said) = action.said {
            self.say(said);
        }
        let Some(result) = result else {
            return;
        };
        if let Some(format) = action.save_file {
            self.commands.push(Command::SaveResult { result, format });
        } else if let Some(name) = action.save_dataset {
            self.commands
                .push(Command::SaveResultAsDataset { result, name });
        }
    }

    /// Asks where to save `result`, then saves it there.
    pub(super) fn ask_where_to_save(&mut self, result: ResultToSave, format: ResultFormat) {
        self.pending_save = Some(result);
        self.pick(PickPurpose::SaveResult { format });
    }

    /// The file name offered when saving the pending result.
    pub(super) fn save_file_name(&self, format: ResultFormat) -> String {
        let label = self
            .pending_save
            .as_ref()
            .map_or("result", |r| r.label.as_str());
        format!("{label}.{}", format.extension())
    }

    /// Saves the pending result to `path` as a job; a notice says how it went.
    pub(super) fn save_result_to(&mut self, mut path: PathBuf, format: ResultFormat) {
        let Some(result) = self.pending_save.take() else {
            return;
        };
        if path.extension().is_none() {
            path.set_extension(format.extension());
        }
        // The name decides the format when it names one (a.parquet from the CSV item).
        let format = ResultFormat::from_path(&path).unwrap_or(format);
        let title = format!("save {} to {}", result.label, path.display());
        self.spawn_job(title, move |runner, job| async move {
            let saved: Result<usize, String> = match result.query {
                Some((sql, pins)) => {
                    let lake = runner.lake_copy().await;
                    save_query(&lake, &sql, pins, &path, format, &job)
                        .await
                        .map_err(|e| e.to_string())
                }
                None => {
                    let (rows, path) = (result.rows, path.clone());
                    let schema = rows.schema();
                    let written = tokio::task::spawn_blocking(move || {
                        save_batches(&path, &schema, std::slice::from_ref(&rows), format)
                    })
                    .await;
                    match written {
                        Ok(saved) => saved.map_err(|e| e.to_string()),
                        Err(e) => Err(format!("saving stopped: {e}")),
                    }
                }
            };
            saved.map(|rows| format!("saved {rows} rows to {}", path.display()))
        });
    }

    /// Saves `result` as a new dataset called `name`, as a job; an existing
    /// dataset of that name is never replaced.
    pub(super) fn save_result_as_dataset(&mut self, result: ResultToSave, name: String) {
        let title = format!("save {} as dataset {name}", result.label);
        self.spawn_lake_change(title, move |runner, job| async move {
            let mut lake = runner.lake_copy().await;
            lake.refresh().await.map_err(|e| e.to_string())?;
            if lake.entry(&name).is_ok() {
                return Err(format!(
                    "a dataset called '{name}' exists already: choose another name"
                ));
            }
            let (schema, batches) = match result.query {
                Some((sql, pins)) => {
                    let engine = lakebook_core::sql::SqlEngine::with_options(
                        &lake,
                        lakebook_core::sql::SqlOptions { cache: None, pins },
                    );
                    let query = engine.query(&sql);
                    let all = job
                        .or_cancelled(query)
                        .await
                        .map_err(|_| "cancelled: nothing was saved".to_string())?
                        .map_err(|e| e.message)?;
                    (all.schema, all.batches)
                }
                None => (result.rows.schema(), vec![result.rows]),
            };
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            lake.write_table(&name, schema, batches)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("saved {rows} rows as the dataset {name}"))
        });
    }

    /// Runs `work` as a job of the jobs panel (progress and cancel through
    /// the job it is given); a notice says how it went.
    pub(super) fn spawn_job<F, Fut>(&mut self, title: String, work: F)
    where
        F: FnOnce(Arc<Runner>, Job) -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        self.spawn(title, false, work);
    }

    /// Like [`LakebookApp::spawn_job`], for work that changes the lake's
    /// datasets: the browser reads the lake again when it ends.
    pub(super) fn spawn_lake_change<F, Fut>(&mut self, title: String, work: F)
    where
        F: FnOnce(Arc<Runner>, Job) -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        self.spawn(title, true, work);
    }

    fn spawn<F, Fut>(&mut self, title: String, lake_changed: bool, work: F)
    where
        F: FnOnce(Arc<Runner>, Job) -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        let job = self.add_job(&title);
        let (runner, outbox) = (self.runner.clone(), self.outbox.clone());
        self.rt.spawn(async move {
            let result = work(runner, job).await;
            outbox
                .send(WorkResult::Finished {
                    title,
                    result,
                    lake_changed,
                })
                .await;
        });
    }

    /// A job in the jobs panel, with progress and cancel.
    pub(super) fn add_job(&mut self, title: &str) -> Job {
        let job = Job::new();
        self.jobs.push(JobEntry {
            title: title.to_string(),
            job: job.clone(),
            started: Instant::now(),
            cell: None,
        });
        job
    }

    /// A job started with [`LakebookApp::add_job`] ended.
    pub(super) fn job_finished(
        &mut self,
        title: &str,
        result: Result<String, String>,
        lake_changed: bool,
    ) {
        self.jobs.retain(|j| j.title != title);
        match result {
            Ok(news) => self.say(news),
            Err(e) => self.fail(e),
        }
        if lake_changed {
            self.refresh_lake();
        }
    }
}
