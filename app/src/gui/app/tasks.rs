//! Background work: running cells, paging results, reading the lake,
//! native dialogs and saving, and draining what comes back.

use super::*;

/// Work that runs at least this long gets a notice when it ends.
const LONG_WORK: Duration = Duration::from_secs(2);

impl LakebookApp {
    pub(super) fn load_cached_outputs(&mut self) {
        let Some(path) = &self.path else {
            return;
        };
        let dir = saved::outputs_dir(path);
        for cell in &self.notebook.cells {
            let mut state = CellState::new();
            match saved::load(&dir, &cell.id) {
                Ok(Some(Ok(run))) => state.set_run(run, &self.spawner),
                Ok(Some(Err(e))) => {
                    // The badge says how the last run ended, as it did then.
                    state.status = if e.cancelled {
                        CellStatus::Cancelled
                    } else {
                        CellStatus::Failed
                    };
                    state.set_error(e);
                }
                _ => {}
            }
            self.states.insert(cell.id.clone(), state);
        }
    }

    pub(super) fn refresh_lake(&self) {
        let runner = self.runner.clone();
        let outbox = self.outbox.clone();
        self.rt.spawn(async move {
            let result = {
                let mut lake = runner.lake_copy().await;
                let refreshed = lake.refresh().await;
                if refreshed.is_ok()
                    && let Ok(mut shared) = runner.lake().try_write()
                {
                    *shared = lake.clone();
                }
                match refreshed {
                    Ok(()) => Ok((
                        lake.catalog()
                            .datasets
                            .iter()
                            .map(|(n, e)| (n.clone(), e.clone()))
                            .collect(),
                        lakebook_core::graph::graph_parts(&lake),
                    )),
                    Err(e) => Err(e.to_string()),
                }
            };
            outbox.send(WorkResult::Lake(result)).await;
        });
    }

    pub(super) fn start_cell(&mut self, id: &str) {
        let Some(i) = self.index_of(id) else {
            return;
        };
        if self.state(id).status == CellStatus::Running {
            return;
        }
        let cell = self.notebook.cells[i].clone();
        let job = Job::new();
        {
            let state = self.state(id);
            state.status = CellStatus::Running;
            state.job = Some(job.clone());
        }
        self.jobs.push(JobEntry {
            title: format!("{} cell {}", cell.kind, cell.id),
            job: job.clone(),
            started: Instant::now(),
            cell: Some(cell.id.clone()),
        });
        let runner = self.runner.clone();
        let outbox = self.outbox.clone();
        let outputs_dir = self.path.as_deref().map(saved::outputs_dir);
        self.rt.spawn(async move {
            let result = runner.run(&cell, &BTreeMap::new(), &job).await;
            if let Some(dir) = outputs_dir {
                // A cache that cannot be written only costs a re-run later.
                let _ = saved::save(&dir, &cell.id, result.as_ref());
            }
            outbox
                .send(WorkResult::CellDone {
                    id: cell.id.clone(),
                    result,
                })
                .await;
        });
    }

    /// Asks for the next page of a cell's table result (one at a time).
    pub(super) fn fetch_more(&mut self, id: &str) {
        let outbox = self.outbox.clone();
        let state = self.state(id);
        let Some(pager) = state.paging.more.clone() else {
            return;
        };
        if state.paging.fetching {
            return;
        }
        let Some(loaded) = state.first_table().map(|table| table.batch()) else {
            return;
        };
        state.paging.fetching = true;
        let id = id.to_string();
        // The rows loaded so far are joined with the new page here, off the
        // UI thread: at a million rows the copy takes longer than a frame.
        self.rt.spawn(async move {
            let result = pager
                .next_page(PAGE_ROWS)
                .await
                .map_err(|e| e.to_string())
                .and_then(|page| {
                    let mut all = vec![loaded.clone()];
                    all.extend(page.batches);
                    let joined = arrow::compute::concat_batches(&loaded.schema(), &all)
                        .map_err(|e| e.to_string())?;
                    Ok((joined, page.done))
                });
            outbox.send(WorkResult::Page { id, result }).await;
        });
    }

    /// Empties the run queue because `at` failed or was cancelled, and
    /// says so above the cells when that left cells unrun.
    pub(super) fn stop_queue(&mut self, at: &str, cancelled: bool) {
        let rest: Vec<String> = self.run_queue.drain(..).collect();
        if !rest.is_empty() {
            self.run_stopped = Some(RunStopped {
                at: at.to_string(),
                cancelled,
                rest,
            });
        }
    }

    pub(super) fn pump_queue(&mut self) {
        let running = self
            .states
            .values()
            .any(|s| s.status == CellStatus::Running);
        if running {
            return;
        }
        if let Some(next) = self.run_queue.pop_front() {
            self.start_cell(&next);
        }
    }

    pub(super) fn drain_results(&mut self) {
        while let Ok(result) = self.inbox.try_recv() {
            match result {
                WorkResult::Page { id, result } => {
                    let state = self.state(&id);
                    state.paging.fetching = false;
                    match result {
                        Ok((rows, done)) => {
                            if let Some(table) = state.first_table() {
                                table.replace_rows(rows);
                            }
                            if done {
                                state.paging.more = None;
                                state.paging.partial = false;
                            }
                        }
                        Err(e) => {
                            state.paging.more = None;
                            self.fail(format!("could not fetch more rows: {e}"));
                        }
                    }
                }
                WorkResult::CellDone { id, result } => {
                    let spawner = self.spawner.clone();
                    let took = self
                        .jobs
                        .iter()
                        .find(|j| j.cell.as_deref() == Some(id.as_str()))
                        .map(|j| j.started.elapsed());
                    self.jobs.retain(|j| j.cell.as_deref() != Some(id.as_str()));
                    // Long work gets a notice: the person may have looked away.
                    let long = took.is_some_and(|t| t >= LONG_WORK);
                    let seconds = took.map_or(0.0, |t| t.as_secs_f64());
                    let mut changed = Vec::new();
                    let mut failed = false;
                    match result {
                        Ok(run) => {
                            changed = run.changed.clone();
                            if let Some(i) = self.index_of(&id) {
                                self.notebook.cells[i].read = run.read.clone();
                            }
                            if long {
                                self.say(format!("cell {id} finished in {seconds:.1} s"));
                            }
                            let state = self.state(&id);
                            state.status = CellStatus::Done;
                            state.set_run(run, &spawner);
                        }
                        Err(e) => {
                            // A cancel, like a failure, stops a run-all.
                            failed = true;
                            if long && !e.cancelled {
                                self.fail(format!(
                                    "cell {id} failed after {seconds:.1} s: {}",
                                    e.message
                                ));
                            }
                            let state = self.state(&id);
                            state.status = if e.cancelled {
                                CellStatus::Cancelled
                            } else {
                                CellStatus::Failed
                            };
                            state.set_error(e);
                        }
                    }
                    self.state(&id).job = None;
                    if failed {
                        // A failed cell stops a run-all: later cells may need its result.
                        let cancelled = self.state(&id).status == CellStatus::Cancelled;
                        self.stop_queue(&id, cancelled);
                    }
                    if !changed.is_empty() {
                        self.refresh_lake();
                    }
                    self.touch();
                }
                WorkResult::Lake(Ok((datasets, graph_parts))) => {
                    self.graph_parts = graph_parts;
                    self.columns = datasets
                        .iter()
                        .map(|(n, e)| {
                            (n.clone(), e.schema.iter().map(|c| c.name.clone()).collect())
                        })
                        .collect();
                    self.datasets = datasets;
                }
                WorkResult::Lake(Err(e)) => self.fail(format!("cannot read the lake: {e}")),
                WorkResult::Profile {
                    dataset,
                    column,
                    result,
                } => {
                    let title = profile_title(&dataset, &column);
                    self.jobs.retain(|j| j.title != title);
                    if self.inspect == Some((dataset, Some(column))) {
                        self.profile = Some(result);
                    }
                }
                WorkResult::Preview { dataset, result } => {
                    if self.inspect == Some((dataset.clone(), None)) {
                        let table = result.and_then(|rows| {
                            ResultTable::new(&rows.schema(), std::slice::from_ref(&rows))
                                .map(ResultTable::without_toolbar)
                        });
                        self.preview = Some((dataset, table));
                    }
                }
                WorkResult::Versions { dataset, result } => {
                    if self.inspect == Some((dataset, None)) {
                        self.versions = Some(result);
                    }
                }
                WorkResult::Picked(purpose, chosen) => self.dialog_ended(purpose, chosen),
                WorkResult::Finished {
                    title,
                    result,
                    lake_changed,
                } => self.job_finished(&title, result, lake_changed),
            }
        }
    }

    /// Acts on the paths chosen for `purpose`.
    pub(super) fn picked(&mut self, purpose: PickPurpose, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        match purpose {
            PickPurpose::IngestInto { cell, .. } => {
                if let Some(i) = self.index_of(&cell) {
                    crate::gui::cells::add_ingest_paths(&mut self.notebook.cells[i], &paths);
                    self.touch();
                }
            }
            PickPurpose::OpenNotebook => {
                if let Some(p) = paths.into_iter().next() {
                    self.commands.push(Command::OpenPath(p));
                }
            }
            PickPurpose::SaveNotebookAs => {
                if let Some(mut p) = paths.into_iter().next() {
                    if p.extension().is_none() {
                        p.set_extension("lakebook");
                    }
                    self.path = Some(p);
                    self.save_and_say();
                }
            }
            PickPurpose::SaveResult { format } => {
                if let Some(path) = paths.into_iter().next() {
                    self.save_result_to(path, format);
                }
            }
            PickPurpose::ExportGraph { cell, svg } => {
                let Some(path) = paths.into_iter().next() else {
                    return;
                };
                let panel = self.states.get_mut(&cell).and_then(|state| {
                    state.views.iter_mut().find_map(|view| match view {
                        PartView::Graph(GraphView::Shown(panel)) => Some(panel),
                        _ => None,
                    })
                });
                match panel {
                    Some(panel) => panel.export_to(path, svg),
                    None => self.fail("the graph is no longer shown: nothing exported"),
                }
            }
        }
    }

    /// How a dialog for `purpose` ended: act on the paths, or ask for them
    /// in the window when no dialog could be shown.
    pub(super) fn dialog_ended(&mut self, purpose: PickPurpose, chosen: Chosen) {
        match chosen {
            Chosen::Paths(paths) => self.picked(purpose, paths),
            Chosen::Cancelled => {}
            Chosen::Unavailable(why) => {
                let request = self.file_request(&purpose);
                self.prompt = Some((purpose, PathPrompt::new(request, why)));
            }
        }
    }

    /// The dialog that `purpose` shows.
    fn file_request(&self, purpose: &PickPurpose) -> FileRequest {
        let folder = self
            .path
            .as_ref()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        let notebooks = Some((
            "Lakebook notebook".to_string(),
            vec!["lakebook".to_string()],
        ));
        let (title, choose, filter, file_name) = match purpose {
            PickPurpose::OpenNotebook => ("Open notebook", Choose::File, notebooks, None),
            PickPurpose::SaveNotebookAs => (
                "Save notebook as",
                Choose::SaveFile,
                notebooks,
                Some("notebook.lakebook".to_string()),
            ),
            PickPurpose::IngestInto { folder: true, .. } => {
                ("Folders to ingest", Choose::Folders, None, None)
            }
            PickPurpose::IngestInto { folder: false, .. } => {
                ("Files to ingest", Choose::Files, None, None)
            }
            PickPurpose::SaveResult { format } => (
                "Save the result as",
                Choose::SaveFile,
                Some((
                    format!("{} file", format.extension().to_uppercase()),
                    vec![format.extension().to_string()],
                )),
                Some(self.save_file_name(*format)),
            ),
            PickPurpose::ExportGraph { cell, svg } => {
                let (extension, kind) = if *svg {
                    ("svg", "SVG drawing")
                } else {
                    ("png", "PNG image")
                };
                let name = self
                    .index_of(cell)
                    .map(|i| self.notebook.cells[i].text("name").trim().to_string())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "graph".to_string());
                (
                    "Export the graph as",
                    Choose::SaveFile,
                    Some((kind.to_string(), vec![extension.to_string()])),
                    Some(format!("{name}.{extension}")),
                )
            }
        };
        FileRequest {
            title: title.to_string(),
            choose,
            filter,
            folder,
            file_name,
        }
    }

    /// Opens the dialog for `purpose`: the desktop's own, awaited on the
    /// runtime (the portal answers asynchronously; the UI thread never
    /// waits), or the window's path prompt when there is none.
    pub(super) fn pick(&self, purpose: PickPurpose) {
        let outbox = self.outbox.clone();
        let request = self.file_request(&purpose);
        self.rt.spawn(async move {
            let chosen = choose_native(request).await;
            outbox.send(WorkResult::Picked(purpose, chosen)).await;
        });
    }

    /// The path prompt, while one is open.
    pub(super) fn prompt_ui(&mut self, ctx: &egui::Context) {
        let Some((_, prompt)) = &mut self.prompt else {
            return;
        };
        match prompt.ui(ctx) {
            Prompted::Open => {}
            Prompted::Cancelled => self.prompt = None,
            Prompted::Chosen(paths) => {
                if let Some((purpose, _)) = self.prompt.take() {
                    self.picked(purpose, paths);
                }
            }
        }
    }

    /// Writes the notebook where the person asked, and says so.
    pub(super) fn save_and_say(&mut self) {
        self.save();
        if !self.dirty
            && let Some(path) = &self.path
        {
            let news = format!("saved {}", path.display());
            self.say(news);
        }
    }

    /// Writes the notebook to its file, or to the autosave file when it has
    /// none; quietly (autosave), saying only when it fails.
    pub(super) fn save(&mut self) {
        let Some(target) = self.path.clone().or_else(|| self.settings.untitled()) else {
            self.dirty = false;
            return;
        };
        match self.notebook.save(&target) {
            Ok(()) => {
                self.dirty = false;
                if self.path.is_some() {
                    self.settings.remember(&target);
                }
                self.settings.last = Some(target);
                self.settings.save();
            }
            Err(e) => self.fail(format!("not saved: {e}")),
        }
    }
}
