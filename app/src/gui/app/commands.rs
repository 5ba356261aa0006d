//! The commands UI code sends, applied once per frame in order.

use super::*;

/// Things UI code asks for; applied once per frame, in order.
#[derive(Debug, Clone)]
pub enum Command {
    /// Fetch the next page of a cell's table result.
    FetchMore(String),
    /// Run a cell.
    Run(String),
    /// Run a cell, then select the next one (adding one at the end).
    RunAndAdvance(String),
    /// Run every cell, top to bottom.
    RunAll,
    /// Run a cell and every cell below it.
    RunFrom(String),
    /// Cancel a cell's run.
    Cancel(String),
    /// Cancel every job.
    CancelAll,
    /// Cancel one job of the jobs panel.
    CancelJob {
        /// The job's title, as the panel shows it.
        title: String,
    },
    /// Add a cell of a kind after a cell (or at the end).
    Add {
        /// The kind's name.
        kind: String,
        /// The cell to add it after; none adds it at the end.
        after: Option<String>,
    },
    /// Add a cell of a kind above a cell.
    AddAbove {
        /// The kind's name.
        kind: String,
        /// The cell to add it above.
        before: String,
    },
    /// Quit (asking first while work runs).
    Quit,
    /// Embed a dataset's rows that have no vector yet, then index it.
    Embed(String),
    /// Ask for a dataset's new name.
    StartRename(String),
    /// Rename a dataset.
    RenameDataset {
        /// Its name now.
        from: String,
        /// Its new name.
        to: String,
    },
    /// Remove a dataset into the lake's trash.
    RemoveDataset(String),
    /// Bring a removed dataset back from the trash.
    RestoreDataset(String),
    /// Add a SQL cell with this query after a cell, and run it.
    AddSql {
        /// The cell to add it after.
        after: String,
        /// The query.
        sql: String,
    },
    /// Delete a cell (Ctrl+Z brings it back).
    Delete(String),
    /// Undo the last change to the cells (an edit, an added, moved or deleted cell).
    Undo,
    /// Do again the last change undone.
    Redo,
    /// Copy a cell below itself.
    Duplicate(String),
    /// Move a cell up (-1) or down (+1).
    Move {
        /// The cell.
        id: String,
        /// Places to move: -1 up, +1 down.
        by: i32,
    },
    /// Fold or unfold a cell.
    ToggleCollapse(String),
    /// Make a cell the selected one.
    Select(String),
    /// Save to the notebook's file (asks for one if it has none).
    Save,
    /// Save under a new name.
    SaveAs,
    /// Pick a notebook to open.
    Open,
    /// Open this notebook.
    OpenPath(PathBuf),
    /// A new, empty notebook.
    New,
    /// Pick files or a folder for an ingest cell.
    PickFor {
        /// The ingest cell.
        id: String,
        /// A folder rather than files.
        folder: bool,
    },
    /// Ask where to export a graph cell's view, then export it.
    ExportGraph {
        /// The graph or communities cell.
        id: String,
        /// SVG rather than PNG.
        svg: bool,
    },
    /// Ask where to save a result as a file, then save it.
    SaveResult {
        /// The result.
        result: ResultToSave,
        /// CSV or Parquet.
        format: lakebook_core::result_file::ResultFormat,
    },
    /// Save a result as a new dataset.
    SaveResultAsDataset {
        /// The result.
        result: ResultToSave,
        /// The new dataset's name.
        name: String,
    },
    /// Ingest these paths in a new cell, now.
    IngestPaths(Vec<PathBuf>),
    /// Show a dataset (and column) in the inspector.
    Inspect {
        /// The dataset.
        dataset: String,
        /// One of its columns, to profile.
        column: Option<String>,
    },
    /// A new cell that queries or searches a dataset.
    NewCellFor {
        /// The dataset (`name@version` for an old version).
        dataset: String,
        /// The new cell's kind.
        kind: &'static str,
    },
    /// Re-read the lake's catalog.
    RefreshLake,
    /// Switch light / dark.
    ToggleTheme,
}

impl LakebookApp {
    pub(super) fn apply(&mut self, command: Command) {
        match command {
            Command::Run(id) => self.run_queue.push_back(id),
            Command::RunAndAdvance(id) => {
                self.run_queue.push_back(id.clone());
                let next = self.index_of(&id).map(|i| i + 1);
                match next.and_then(|i| self.notebook.cells.get(i)) {
                    Some(c) => {
                        self.selected = Some(c.id.clone());
                        self.focus_editor = Some(c.id.clone());
                    }
                    None => self.apply(Command::Add {
                        kind: "sql".into(),
                        after: Some(id),
                    }),
                }
            }
            Command::RunAll => {
                self.run_stopped = None;
                self.run_queue = self.notebook.cells.iter().map(|c| c.id.clone()).collect();
            }
            Command::RunFrom(id) => {
                self.run_stopped = None;
                if let Some(i) = self.index_of(&id) {
                    self.run_queue = self.notebook.cells[i..]
                        .iter()
                        .map(|c| c.id.clone())
                        .collect();
                }
            }
            Command::FetchMore(id) => self.fetch_more(&id),
            Command::Cancel(id) => {
                if let Some(job) = &self.state(&id).job {
                    job.cancel();
                }
                self.stop_queue(&id, true);
            }
            Command::CancelJob { title } => {
                for j in self.jobs.iter().filter(|j| j.title == title) {
                    j.job.cancel();
                }
            }
            Command::CancelAll => {
                for j in &self.jobs {
                    j.job.cancel();
                }
                let running = self.jobs.iter().find_map(|j| j.cell.clone());
                self.stop_queue(running.as_deref().unwrap_or(""), true);
            }
            Command::Add { kind, after } => {
                let at = after
                    .and_then(|a| self.index_of(&a))
                    .map_or(self.notebook.cells.len(), |i| i + 1);
                self.insert_new_cell(&kind, at);
            }
            Command::AddAbove { kind, before } => {
                let at = self.index_of(&before).unwrap_or(0);
                self.insert_new_cell(&kind, at);
            }
            Command::Quit => self.want_quit = true,
            Command::Embed(name) => {
                self.spawn_lake_change(format!("embed {name}"), |runner, job| async move {
                    runner.embed(&name, &job).await.map_err(|e| e.message)
                });
            }
            Command::StartRename(name) => self.renaming = Some((name.clone(), name)),
            Command::RenameDataset { from, to } => {
                if self.inspect.as_ref().is_some_and(|(d, _)| *d == from) {
                    self.inspect = None;
                }
                self.spawn_lake_change(format!("rename {from}"), |runner, _| async move {
                    let mut lake = runner.lake_copy().await;
                    lake.rename_dataset(&from, &to)
                        .await
                        .map(|()| format!("renamed {from} to {to}"))
                        .map_err(|e| format!("{from} not renamed: {e}"))
                });
            }
            Command::RemoveDataset(name) => {
                if self.inspect.as_ref().is_some_and(|(d, _)| *d == name) {
                    self.inspect = None;
                }
                self.removed.retain(|n| *n != name);
                self.removed.push(name.clone());
                self.spawn_lake_change(format!("remove {name}"), |runner, _| async move {
                    let mut lake = runner.lake_copy().await;
                    lake.remove_dataset(&name)
                        .await
                        .map(|_| {
                            format!("removed {name} to the lake's trash (Bring back restores it)")
                        })
                        .map_err(|e| format!("{name} not removed: {e}"))
                });
            }
            Command::RestoreDataset(name) => {
                self.removed.retain(|n| *n != name);
                self.spawn_lake_change(format!("restore {name}"), |runner, _| async move {
                    let mut lake = runner.lake_copy().await;
                    lake.restore_dataset(&name)
                        .await
                        .map(|()| format!("brought {name} back"))
                        .map_err(|e| format!("{name} not brought back: {e}"))
                });
            }
            Command::AddSql { after, sql } => {
                let mut params = toml::Table::new();
                params.insert("sql".into(), sql.into());
                let at = self
                    .index_of(&after)
                    .map_or(self.notebook.cells.len(), |i| i + 1);
                let cell = Cell::new("sql", params, &self.notebook.ids());
                let id = cell.id.clone();
                self.notebook.cells.insert(at, cell);
                self.selected = Some(id.clone());
                self.run_queue.push_back(id);
                self.touch();
            }
            Command::Delete(id) => {
                if let Some(i) = self.index_of(&id) {
                    self.notebook.cells.remove(i);
                    self.say("cell deleted (Ctrl+Z brings it back)");
                    self.touch();
                }
            }
            Command::Undo => self.step_history(true),
            Command::Redo => self.step_history(false),
            Command::Duplicate(id) => {
                if let Some(i) = self.index_of(&id) {
                    let mut copy = self.notebook.cells[i].clone();
                    copy.id = Cell::new(&copy.kind, toml::Table::new(), &self.notebook.ids()).id;
                    copy.read.clear();
                    self.selected = Some(copy.id.clone());
                    self.notebook.cells.insert(i + 1, copy);
                    self.touch();
                }
            }
            Command::Move { id, by } => {
                if let Some(i) = self.index_of(&id) {
                    let j = i as i64 + i64::from(by);
                    if j >= 0 && (j as usize) < self.notebook.cells.len() {
                        self.notebook.cells.swap(i, j as usize);
                        self.touch();
                    }
                }
            }
            Command::ToggleCollapse(id) => {
                if let Some(i) = self.index_of(&id) {
                    let c = &mut self.notebook.cells[i];
                    c.collapsed = !c.collapsed;
                    self.touch();
                }
            }
            Command::Select(id) => self.selected = Some(id),
            Command::Save => {
                if self.path.is_some() {
                    self.save_and_say();
                } else {
                    self.pick(PickPurpose::SaveNotebookAs);
                }
            }
            Command::SaveAs => self.pick(PickPurpose::SaveNotebookAs),
            Command::Open => self.pick(PickPurpose::OpenNotebook),
            Command::OpenPath(p) => match Notebook::load(&p) {
                Ok(nb) => {
                    if self.dirty {
                        self.save();
                    }
                    self.notebook = nb;
                    self.history.clear();
                    self.path = Some(p.clone());
                    self.states.clear();
                    self.load_cached_outputs();
                    self.selected = self.notebook.cells.first().map(|c| c.id.clone());
                    self.settings.remember(&p);
                    self.settings.last = Some(p);
                    self.settings.save();
                    self.dirty = false;
                }
                Err(e) => self.fail(e.to_string()),
            },
            Command::New => {
                if self.dirty {
                    self.save();
                }
                self.notebook = Notebook::default();
                self.history.clear();
                self.path = None;
                self.states.clear();
                self.apply(Command::Add {
                    kind: "sql".into(),
                    after: None,
                });
            }
            Command::PickFor { id, folder } => {
                self.pick(PickPurpose::IngestInto { cell: id, folder });
            }
            Command::ExportGraph { id, svg } => {
                self.pick(PickPurpose::ExportGraph { cell: id, svg });
            }
            Command::IngestPaths(paths) => {
                let mut params = toml::Table::new();
                params.insert(
                    "paths".into(),
                    toml::Value::Array(
                        paths
                            .iter()
                            .map(|p| toml::Value::String(p.to_string_lossy().into_owned()))
                            .collect(),
                    ),
                );
                params.insert("mode".into(), "create".into());
                let cell = Cell::new("ingest", params, &self.notebook.ids());
                let id = cell.id.clone();
                self.notebook.cells.push(cell);
                self.selected = Some(id.clone());
                self.run_queue.push_back(id);
                self.touch();
            }
            Command::Inspect { dataset, column } => {
                self.profile = None;
                self.versions = None;
                self.inspect = Some((dataset.clone(), column.clone()));
                if column.is_none() {
                    self.preview = None;
                    let (runner, outbox) = (self.runner.clone(), self.outbox.clone());
                    let name = dataset.clone();
                    self.rt.spawn(async move {
                        let result = {
                            let lake = runner.lake_copy().await;
                            let sql = format!(
                                "SELECT * FROM {} LIMIT 20",
                                lakebook_core::sql::quote_ident(&name)
                            );
                            lakebook_core::sql::SqlEngine::new(&lake)
                                .query(&sql)
                                .await
                                .map_err(|e| e.message)
                                .and_then(|r| {
                                    arrow::compute::concat_batches(&r.schema, &r.batches)
                                        .map_err(|e| e.to_string())
                                })
                        };
                        outbox
                            .send(WorkResult::Preview {
                                dataset: name,
                                result,
                            })
                            .await;
                    });
                    let runner = self.runner.clone();
                    let outbox = self.outbox.clone();
                    self.rt.spawn(async move {
                        let result = {
                            let lake = runner.lake_copy().await;
                            lake.versions(&dataset).await.map_err(|e| e.to_string())
                        };
                        outbox.send(WorkResult::Versions { dataset, result }).await;
                    });
                } else if let Some(column) = column {
                    // A job like a cell's: progress in the jobs panel, and cancel.
                    let job = self.add_job(&profile_title(&dataset, &column));
                    let runner = self.runner.clone();
                    let outbox = self.outbox.clone();
                    self.rt.spawn(async move {
                        let result = {
                            let lake = runner.lake_copy().await;
                            profile_column(&lake, &dataset, &column, &job).await
                        };
                        outbox
                            .send(WorkResult::Profile {
                                dataset,
                                column,
                                result,
                            })
                            .await;
                    });
                }
            }
            Command::NewCellFor { dataset, kind } => {
                let mut params = toml::Table::new();
                if kind == "search" {
                    params.insert("query".into(), "".into());
                    params.insert("mode".into(), "hybrid".into());
                    params.insert("dataset".into(), dataset.into());
                    params.insert("k".into(), 10.into());
                } else {
                    let quoted = format!("\"{}\"", dataset.replace('"', "\"\""));
                    params.insert(
                        "sql".into(),
                        format!("SELECT * FROM {quoted} LIMIT 100").into(),
                    );
                }
                let cell = Cell::new(kind, params, &self.notebook.ids());
                let id = cell.id.clone();
                self.notebook.cells.push(cell);
                self.selected = Some(id.clone());
                if kind == "sql" {
                    self.run_queue.push_back(id);
                }
                self.touch();
            }
            Command::SaveResult { result, format } => self.ask_where_to_save(result, format),
            Command::SaveResultAsDataset { result, name } => {
                self.save_result_as_dataset(result, name);
            }
            Command::RefreshLake => self.refresh_lake(),
            Command::ToggleTheme => {
                self.dark = !self.dark;
                self.settings.dark = self.dark;
                self.settings.save();
            }
        }
    }
}

impl LakebookApp {
    /// A new cell of `kind` with its default parameters at place `at`,
    /// selected, with the keyboard in its editor.
    fn insert_new_cell(&mut self, kind: &str, at: usize) {
        let params = self
            .runner
            .registry()
            .get(kind)
            .map(|k| k.default_params())
            .unwrap_or_default();
        let cell = Cell::new(kind, params, &self.notebook.ids());
        self.selected = Some(cell.id.clone());
        self.focus_editor = Some(cell.id.clone());
        self.notebook.cells.insert(at, cell);
        self.touch();
    }

    /// Undoes (or redoes) the last change to the cells. A cell keeps what
    /// its runs recorded (the versions read, how its result is shown).
    fn step_history(&mut self, undo: bool) {
        let now = &self.notebook.cells;
        let Some(mut cells) = (if undo {
            self.history.undo(now)
        } else {
            self.history.redo(now)
        }) else {
            self.say(if undo {
                "nothing to undo"
            } else {
                "nothing to redo"
            });
            return;
        };
        for cell in &mut cells {
            if let Some(current) = self.notebook.cells.iter().find(|c| c.id == cell.id) {
                cell.read = current.read.clone();
                cell.views = current.views.clone();
            }
        }
        self.notebook.cells = cells;
        if self
            .selected
            .as_ref()
            .is_some_and(|s| self.index_of(s).is_none())
        {
            self.selected = self.notebook.cells.last().map(|c| c.id.clone());
        }
        self.touch();
    }
}

/// The jobs panel's title of profiling one column (also how its entry is found again).
pub(super) fn profile_title(dataset: &str, column: &str) -> String {
    format!("profile {dataset}.{column}")
}
