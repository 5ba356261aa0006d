//! The notebook window: state, the commands UI code sends, and the frame loop
//! that applies them and drains results from background work.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use egui::{Key, KeyboardShortcut, Modifiers};
use lakebook_core::Job;
use lakebook_core::lake::DatasetEntry;
use lakebook_core::notebook::pager::PAGE_ROWS;
use lakebook_core::notebook::{
    Cell, CellError, CellOutput, CellRun, Notebook, ResultPager, Runner, saved,
};

use super::cells::{CellEditor, EditorResponse, LakeNames, editors, raw_editor_ui};
use super::cluster_view::ClusterPanel;
use super::graph_view::GraphPanel;
use super::inspector::{ColumnProfile, profile_column, profile_ui};
use super::match_view;
use super::settings::Settings;
use super::table_view::ResultTable;
use super::work::{JobEntry, Outbox, PickPurpose, WorkResult, channel};

/// Where a cell stands.
#[derive(Debug, Clone, PartialEq)]
pub enum CellStatus {
    /// Never run in this session (it may show a cached output).
    Idle,
    /// Running now.
    Running,
    /// Finished.
    Done,
    /// Failed.
    Failed,
}

/// What the window keeps per cell besides the cell itself.
pub struct CellState {
    /// Where it stands.
    pub status: CellStatus,
    /// The last output.
    pub run: Option<CellRun>,
    /// The last error.
    pub error: Option<CellError>,
    /// Result tables on screen (one per table or search group).
    tables: Vec<ResultTable>,
    /// The running job.
    job: Option<Job>,
    /// The graph view of a Graph or Communities output.
    graph: Option<GraphPanel>,
    /// A cached graph output without the graph itself asked for it (once).
    graph_requested: bool,
    /// The scatter and subpopulations of a Clusters output.
    clusters: Option<ClusterPanel>,
    /// The unread rest of a table result, fetched as the user scrolls.
    more: Option<ResultPager>,
    /// A page is being fetched.
    fetching: bool,
    /// The result table holds every row of the result.
    whole: bool,
}

impl CellState {
    fn new() -> Self {
        Self {
            status: CellStatus::Idle,
            run: None,
            error: None,
            tables: Vec::new(),
            job: None,
            graph: None,
            graph_requested: false,
            clusters: None,
            more: None,
            fetching: false,
            whole: true,
        }
    }

    fn set_run(&mut self, mut run: CellRun) {
        self.more = run.more.take();
        self.fetching = false;
        let parts = run.output.parts();
        self.whole = !parts.iter().any(|p| {
            matches!(
                p,
                CellOutput::Table {
                    complete: false,
                    ..
                }
            )
        });
        // One result table per table part and per search group, in order.
        self.tables = parts
            .iter()
            .flat_map(|part| match part {
                CellOutput::Table {
                    schema, batches, ..
                } => ResultTable::new(schema, batches).into_iter().collect(),
                CellOutput::Search(groups) => groups
                    .iter()
                    .filter_map(|g| {
                        ResultTable::new(&g.rows.schema(), std::slice::from_ref(&g.rows)).ok()
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        self.graph = parts.iter().find_map(|part| match part {
            CellOutput::Graph(g) => GraphPanel::new(g),
            _ => None,
        });
        self.clusters = parts.iter().find_map(|part| match part {
            CellOutput::Cluster(c) => Some(ClusterPanel::new(c)),
            _ => None,
        });
        self.run = Some(run);
        self.error = None;
    }
}

/// Keeps a side panel's width in `slot` for the next session (written when
/// the user lets go of the divider, and on exit); true when it changed.
fn remember_width(slot: &mut Option<f32>, width: f32) -> bool {
    if slot.is_some_and(|w| (w - width).abs() < 1.0) {
        return false;
    }
    *slot = Some(width.round());
    true
}

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
    /// Add a cell of a kind after a cell (or at the end).
    Add(String, Option<String>),
    /// Add a SQL cell with this query after a cell, and run it.
    AddSql(String, String),
    /// Delete a cell (Ctrl+Z brings it back).
    Delete(String),
    /// Bring back the last deleted cell.
    UndoDelete,
    /// Copy a cell below itself.
    Duplicate(String),
    /// Move a cell up (-1) or down (+1).
    Move(String, i32),
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
    /// Pick files (false) or a folder (true) for an ingest cell.
    PickFor(String, bool),
    /// Ingest these paths in a new cell, now.
    IngestPaths(Vec<PathBuf>),
    /// Show a dataset (and column) in the inspector.
    Inspect(String, Option<String>),
    /// A new cell that queries or searches a dataset.
    NewCellFor(String, &'static str),
    /// Re-read the lake's catalog.
    RefreshLake,
    /// Switch light / dark.
    ToggleTheme,
}

/// The notebook window.
pub struct LakebookApp {
    /// Settings changed since they were last written (panel widths, window size).
    settings_changed: bool,
    rt: tokio::runtime::Handle,
    runner: Arc<Runner>,
    notebook: Notebook,
    path: Option<PathBuf>,
    dirty: bool,
    last_edit: Instant,
    states: HashMap<String, CellState>,
    selected: Option<String>,
    datasets: Vec<(String, DatasetEntry)>,
    columns: Vec<(String, Vec<String>)>,
    inspect: Option<(String, Option<String>)>,
    profile: Option<Result<ColumnProfile, String>>,
    versions: Option<Result<Vec<lakebook_core::lake::VersionInfo>, String>>,
    jobs: Vec<JobEntry>,
    run_queue: VecDeque<String>,
    outbox: Outbox,
    inbox: Receiver<WorkResult>,
    commands: Vec<Command>,
    editors: Vec<Box<dyn CellEditor>>,
    markdown: egui_commonmark::CommonMarkCache,
    trash: Vec<(usize, Cell)>,
    status: Option<(String, Instant)>,
    settings: Settings,
    dark: bool,
    /// Asked the window to close (start-up benchmark).
    closing: bool,
}

const RUN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
const RUN_ADVANCE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::SHIFT, Key::Enter);
const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const SAVE_AS: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::S);
const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);

/// Unsaved edits are written this long after the last change.
const AUTOSAVE_AFTER: Duration = Duration::from_secs(2);

impl LakebookApp {
    /// A window over `runner`'s lake showing `notebook` (read from `path`, if
    /// it has one), remembering recent files in `settings`.
    pub fn new(
        ctx: &egui::Context,
        rt: tokio::runtime::Handle,
        runner: Arc<Runner>,
        notebook: Notebook,
        path: Option<PathBuf>,
        mut settings: Settings,
    ) -> Self {
        let (outbox, inbox) = channel(ctx);
        if let Some(p) = &path {
            settings.remember(p);
        }
        let dark = settings.dark;
        ctx.set_visuals(if dark {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        });
        let mut app = Self {
            rt,
            runner,
            notebook,
            path,
            dirty: false,
            settings_changed: false,
            last_edit: Instant::now(),
            states: HashMap::new(),
            selected: None,
            datasets: Vec::new(),
            columns: Vec::new(),
            inspect: None,
            profile: None,
            versions: None,
            jobs: Vec::new(),
            run_queue: VecDeque::new(),
            outbox,
            inbox,
            commands: Vec::new(),
            editors: editors(),
            markdown: egui_commonmark::CommonMarkCache::default(),
            trash: Vec::new(),
            status: None,
            settings,
            dark,
            closing: false,
        };
        app.load_cached_outputs();
        app.refresh_lake();
        app
    }

    /// The notebook as edited.
    pub fn notebook(&self) -> &Notebook {
        &self.notebook
    }

    /// Rows of a cell's last output (table or search hits), if it has one.
    pub fn output_rows(&self, id: &str) -> Option<usize> {
        self.states.get(id)?.run.as_ref().map(|r| r.output.rows())
    }

    /// Rows of a cell's result table as loaded so far (pages fetched).
    pub fn loaded_rows(&self, id: &str) -> Option<usize> {
        self.states.get(id)?.tables.first().map(ResultTable::rows)
    }

    /// Whether any cell is running or fetching rows.
    pub fn busy(&self) -> bool {
        !self.jobs.is_empty()
            || !self.run_queue.is_empty()
            || self.states.values().any(|s| s.fetching)
    }

    /// Queues a command, as a click would.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    fn say(&mut self, message: impl Into<String>) {
        self.status = Some((message.into(), Instant::now()));
    }

    fn load_cached_outputs(&mut self) {
        let Some(path) = &self.path else {
            return;
        };
        let dir = saved::outputs_dir(path);
        for cell in &self.notebook.cells {
            let mut state = CellState::new();
            match saved::load(&dir, &cell.id) {
                Ok(Some(Ok(run))) => state.set_run(run),
                Ok(Some(Err(message))) => state.error = Some(CellError::new(message)),
                _ => {}
            }
            self.states.insert(cell.id.clone(), state);
        }
    }

    fn state(&mut self, id: &str) -> &mut CellState {
        self.states
            .entry(id.to_string())
            .or_insert_with(CellState::new)
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.notebook.cells.iter().position(|c| c.id == id)
    }

    fn touch(&mut self) {
        self.dirty = true;
        self.last_edit = Instant::now();
    }

    fn refresh_lake(&self) {
        let runner = self.runner.clone();
        let outbox = self.outbox.clone();
        self.rt.spawn(async move {
            let result = {
                let mut lake = runner.lake().write().await;
                match lake.refresh().await {
                    Ok(()) => Ok(lake
                        .catalog()
                        .datasets
                        .iter()
                        .map(|(n, e)| (n.clone(), e.clone()))
                        .collect()),
                    Err(e) => Err(e.to_string()),
                }
            };
            outbox.send(WorkResult::Lake(result));
        });
    }

    fn start_cell(&mut self, id: &str) {
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
                let _ = saved::save(
                    &dir,
                    &cell.id,
                    result.as_ref().map_err(|e| e.message.as_str()),
                );
            }
            outbox.send(WorkResult::CellDone {
                id: cell.id.clone(),
                result,
            });
        });
    }

    /// Asks for the next page of a cell's table result (one at a time).
    fn fetch_more(&mut self, id: &str) {
        let outbox = self.outbox.clone();
        let state = self.state(id);
        let Some(pager) = state.more.clone() else {
            return;
        };
        if state.fetching {
            return;
        }
        let Some(loaded) = state.tables.first().map(ResultTable::batch) else {
            return;
        };
        state.fetching = true;
        let id = id.to_string();
        // The rows loaded so far are joined with the new page here, off the
        // UI thread: at a million rows the copy takes longer than a frame.
        self.rt.spawn(async move {
            let result = pager.next_page(PAGE_ROWS).await.and_then(|page| {
                let mut all = vec![loaded.clone()];
                all.extend(page.batches);
                let joined = arrow::compute::concat_batches(&loaded.schema(), &all)
                    .map_err(|e| e.to_string())?;
                Ok((joined, page.done))
            });
            outbox.send(WorkResult::Page { id, result });
        });
    }

    fn pump_queue(&mut self) {
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

    fn drain_results(&mut self) {
        while let Ok(result) = self.inbox.try_recv() {
            match result {
                WorkResult::Page { id, result } => {
                    let state = self.state(&id);
                    state.fetching = false;
                    match result {
                        Ok((rows, done)) => {
                            if let Some(table) = state.tables.first_mut() {
                                table.replace_rows(rows);
                            }
                            if done {
                                state.more = None;
                                state.whole = true;
                            }
                        }
                        Err(e) => {
                            state.more = None;
                            self.say(format!("could not fetch more rows: {e}"));
                        }
                    }
                }
                WorkResult::CellDone { id, result } => {
                    self.jobs.retain(|j| j.cell.as_deref() != Some(id.as_str()));
                    let mut changed = Vec::new();
                    let mut failed = false;
                    match result {
                        Ok(run) => {
                            changed = run.changed.clone();
                            if let Some(i) = self.index_of(&id) {
                                self.notebook.cells[i].read = run.read.clone();
                            }
                            let state = self.state(&id);
                            state.status = CellStatus::Done;
                            state.set_run(run);
                        }
                        Err(e) => {
                            failed = true;
                            let state = self.state(&id);
                            state.status = CellStatus::Failed;
                            state.error = Some(e);
                        }
                    }
                    self.state(&id).job = None;
                    if failed {
                        // A failed cell stops a run-all: later cells may need its result.
                        self.run_queue.clear();
                    }
                    if !changed.is_empty() {
                        self.refresh_lake();
                    }
                    self.touch();
                }
                WorkResult::Lake(Ok(datasets)) => {
                    self.columns = datasets
                        .iter()
                        .map(|(n, e)| {
                            (n.clone(), e.schema.iter().map(|c| c.name.clone()).collect())
                        })
                        .collect();
                    self.datasets = datasets;
                }
                WorkResult::Lake(Err(e)) => self.say(format!("cannot read the lake: {e}")),
                WorkResult::Profile {
                    dataset,
                    column,
                    result,
                } => {
                    if self.inspect == Some((dataset, Some(column))) {
                        self.profile = Some(result);
                    }
                }
                WorkResult::Versions { dataset, result } => {
                    if self.inspect == Some((dataset, None)) {
                        self.versions = Some(result);
                    }
                }
                WorkResult::Picked(purpose, paths) => self.picked(purpose, paths),
            }
        }
    }

    fn picked(&mut self, purpose: PickPurpose, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        match purpose {
            PickPurpose::IngestInto(id) => {
                if let Some(i) = self.index_of(&id) {
                    super::cells::add_ingest_paths(&mut self.notebook.cells[i], &paths);
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
                    self.save();
                }
            }
        }
    }

    fn pick(&self, purpose: PickPurpose, folder: bool) {
        let outbox = self.outbox.clone();
        let start = self
            .path
            .as_ref()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        // Native dialogs block their thread; never the UI's.
        std::thread::spawn(move || {
            let dialog = rfd::FileDialog::new().set_directory(&start);
            let paths: Vec<PathBuf> = match (&purpose, folder) {
                (PickPurpose::OpenNotebook, _) => dialog
                    .add_filter("Lakebook notebook", &["lakebook"])
                    .pick_file()
                    .into_iter()
                    .collect(),
                (PickPurpose::SaveNotebookAs, _) => dialog
                    .add_filter("Lakebook notebook", &["lakebook"])
                    .set_file_name("notebook.lakebook")
                    .save_file()
                    .into_iter()
                    .collect(),
                (PickPurpose::IngestInto(_), true) => dialog.pick_folders().unwrap_or_default(),
                (PickPurpose::IngestInto(_), false) => dialog.pick_files().unwrap_or_default(),
            };
            outbox.send(WorkResult::Picked(purpose, paths));
        });
    }

    /// Writes the notebook to its file, or to the autosave file when it has none.
    fn save(&mut self) {
        let Some(target) = self.path.clone().or_else(|| self.settings.untitled()) else {
            self.dirty = false;
            return;
        };
        match self.notebook.save(&target) {
            Ok(()) => {
                self.dirty = false;
                if self.path.is_some() {
                    self.settings.remember(&target);
                    self.say(format!("saved {}", target.display()));
                }
                self.settings.last = Some(target);
                self.settings.save();
            }
            Err(e) => self.say(format!("not saved: {e}")),
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::Run(id) => self.run_queue.push_back(id),
            Command::RunAndAdvance(id) => {
                self.run_queue.push_back(id.clone());
                let next = self.index_of(&id).map(|i| i + 1);
                match next.and_then(|i| self.notebook.cells.get(i)) {
                    Some(c) => self.selected = Some(c.id.clone()),
                    None => self.apply(Command::Add("sql".into(), Some(id))),
                }
            }
            Command::RunAll => {
                self.run_queue = self.notebook.cells.iter().map(|c| c.id.clone()).collect();
            }
            Command::RunFrom(id) => {
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
                self.run_queue.clear();
            }
            Command::CancelAll => {
                for j in &self.jobs {
                    j.job.cancel();
                }
                self.run_queue.clear();
            }
            Command::Add(kind, after) => {
                let params = self
                    .runner
                    .registry()
                    .get(&kind)
                    .map(|k| k.default_params())
                    .unwrap_or_default();
                let at = after
                    .and_then(|a| self.index_of(&a))
                    .map_or(self.notebook.cells.len(), |i| i + 1);
                let cell = Cell::new(&kind, params, &self.notebook.ids());
                self.selected = Some(cell.id.clone());
                self.notebook.cells.insert(at, cell);
                self.touch();
            }
            Command::AddSql(after, sql) => {
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
                    let cell = self.notebook.cells.remove(i);
                    self.trash.push((i, cell));
                    self.say("cell deleted (Ctrl+Z brings it back)");
                    self.touch();
                }
            }
            Command::UndoDelete => {
                if let Some((i, cell)) = self.trash.pop() {
                    let at = i.min(self.notebook.cells.len());
                    self.selected = Some(cell.id.clone());
                    self.notebook.cells.insert(at, cell);
                    self.touch();
                }
            }
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
            Command::Move(id, by) => {
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
                    self.save();
                } else {
                    self.pick(PickPurpose::SaveNotebookAs, false);
                }
            }
            Command::SaveAs => self.pick(PickPurpose::SaveNotebookAs, false),
            Command::Open => self.pick(PickPurpose::OpenNotebook, false),
            Command::OpenPath(p) => match Notebook::load(&p) {
                Ok(nb) => {
                    if self.dirty {
                        self.save();
                    }
                    self.notebook = nb;
                    self.path = Some(p.clone());
                    self.states.clear();
                    self.load_cached_outputs();
                    self.selected = self.notebook.cells.first().map(|c| c.id.clone());
                    self.settings.remember(&p);
                    self.settings.last = Some(p);
                    self.settings.save();
                    self.dirty = false;
                }
                Err(e) => self.say(e.to_string()),
            },
            Command::New => {
                if self.dirty {
                    self.save();
                }
                self.notebook = Notebook::default();
                self.path = None;
                self.states.clear();
                self.apply(Command::Add("sql".into(), None));
            }
            Command::PickFor(id, folder) => self.pick(PickPurpose::IngestInto(id), folder),
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
            Command::Inspect(dataset, column) => {
                self.profile = None;
                self.versions = None;
                self.inspect = Some((dataset.clone(), column.clone()));
                if column.is_none() {
                    let runner = self.runner.clone();
                    let outbox = self.outbox.clone();
                    self.rt.spawn(async move {
                        let result = {
                            let lake = runner.lake().read().await;
                            lake.versions(&dataset).await.map_err(|e| e.to_string())
                        };
                        outbox.send(WorkResult::Versions { dataset, result });
                    });
                } else if let Some(column) = column {
                    let runner = self.runner.clone();
                    let outbox = self.outbox.clone();
                    self.rt.spawn(async move {
                        let result = {
                            let lake = runner.lake().read().await;
                            profile_column(&lake, &dataset, &column).await
                        };
                        outbox.send(WorkResult::Profile {
                            dataset,
                            column,
                            result,
                        });
                    });
                }
            }
            Command::NewCellFor(dataset, kind) => {
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
            Command::RefreshLake => self.refresh_lake(),
            Command::ToggleTheme => {
                self.dark = !self.dark;
                self.settings.dark = self.dark;
                self.settings.save();
            }
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        // Save as first: Ctrl+S would also match Ctrl+Shift+S.
        let (save_as, open, new) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&SAVE_AS),
                i.consume_shortcut(&OPEN),
                i.consume_shortcut(&NEW),
            )
        });
        for (pressed, command) in [
            (save_as, Command::SaveAs),
            (open, Command::Open),
            (new, Command::New),
        ] {
            if pressed {
                self.commands.push(command);
            }
        }
        let (run, advance, save, undo, escape, dropped) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&RUN),
                i.consume_shortcut(&RUN_ADVANCE),
                i.consume_shortcut(&SAVE),
                i.consume_shortcut(&UNDO),
                i.key_pressed(Key::Escape),
                std::mem::take(&mut i.raw.dropped_files),
            )
        });
        if let Some(id) = self.selected.clone() {
            if run {
                self.commands.push(Command::Run(id.clone()));
            }
            if advance {
                self.commands.push(Command::RunAndAdvance(id.clone()));
            }
            if escape && self.state(&id).status == CellStatus::Running {
                self.commands.push(Command::Cancel(id));
            }
        }
        if save {
            self.commands.push(Command::Save);
        }
        if undo && !ctx.egui_wants_keyboard_input() {
            self.commands.push(Command::UndoDelete);
        }
        let paths: Vec<PathBuf> = dropped
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            self.commands.push(Command::IngestPaths(paths));
        }
    }

    /// Draws one frame and applies what it asked for.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if ctx.global_style().visuals.dark_mode != self.dark {
            ctx.set_visuals(if self.dark {
                egui::Visuals::dark()
            } else {
                egui::Visuals::light()
            });
        }
        self.drain_results();
        self.shortcuts(&ctx);
        self.menu_ui(ui);
        self.jobs_ui(ui);
        self.browser_ui(ui);
        self.inspector_ui(ui);
        egui::CentralPanel::default().show(ui, |ui| self.notebook_ui(ui));
        for command in std::mem::take(&mut self.commands) {
            self.apply(command);
        }
        self.pump_queue();
        if self.dirty && self.last_edit.elapsed() >= AUTOSAVE_AFTER {
            self.save();
        }
        self.remember_window(&ctx);
        if self.dirty || self.busy() {
            ctx.request_repaint_after(Duration::from_millis(200));
        }
        let title = format!(
            "{}{} — Lakebook",
            if self.dirty { "• " } else { "" },
            self.path.as_ref().and_then(|p| p.file_name()).map_or_else(
                || "untitled".to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        );
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(title));
        if std::env::var_os("LAKEBOOK_FIRST_FRAME_EXIT").is_some()
            && !self.closing
            && let Some(launched) = super::LAUNCHED.get()
        {
            self.closing = true;
            // Start-up benchmark: report the first frame and close.
            eprintln!(
                "first frame {:.0} ms after start",
                launched.elapsed().as_secs_f64() * 1e3
            );
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button("File", |ui| {
                    if ui
                        .add(egui::Button::new("New notebook").shortcut_text("Ctrl+N"))
                        .clicked()
                    {
                        self.commands.push(Command::New);
                    }
                    if ui
                        .add(egui::Button::new("Open…").shortcut_text("Ctrl+O"))
                        .clicked()
                    {
                        self.commands.push(Command::Open);
                    }
                    ui.menu_button("Open recent", |ui| {
                        for p in self.settings.recent.clone() {
                            if ui.button(p.display().to_string()).clicked() {
                                self.commands.push(Command::OpenPath(p));
                            }
                        }
                    });
                    if ui
                        .add(egui::Button::new("Save").shortcut_text("Ctrl+S"))
                        .clicked()
                    {
                        self.commands.push(Command::Save);
                    }
                    if ui
                        .add(egui::Button::new("Save as…").shortcut_text("Ctrl+Shift+S"))
                        .clicked()
                    {
                        self.commands.push(Command::SaveAs);
                    }
                });
                ui.menu_button("Cell", |ui| {
                    for kind in self.runner.registry().kinds().to_vec() {
                        if ui.button(format!("Add {}", kind.label())).clicked() {
                            self.commands
                                .push(Command::Add(kind.name().to_string(), self.selected.clone()));
                        }
                    }
                    ui.separator();
                    if ui.button("Run all").clicked() {
                        self.commands.push(Command::RunAll);
                    }
                    if ui
                        .add(egui::Button::new("Undo delete").shortcut_text("Ctrl+Z"))
                        .clicked()
                    {
                        self.commands.push(Command::UndoDelete);
                    }
                });
                ui.menu_button("View", |ui| {
                    let label = if self.dark {
                        "Light theme"
                    } else {
                        "Dark theme"
                    };
                    if ui.button(label).clicked() {
                        self.commands.push(Command::ToggleTheme);
                    }
                });
                ui.separator();
                if ui
                    .button("▶▶ Run all")
                    .on_hover_text("Run every cell, top to bottom")
                    .clicked()
                {
                    self.commands.push(Command::RunAll);
                }
                ui.label(egui::RichText::new(&self.notebook.title).strong());
            });
        });
    }

    fn jobs_ui(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("jobs").show(ui, |ui| {
            for entry in &self.jobs {
                let p = entry.job.snapshot();
                ui.horizontal(|ui| {
                    ui.add(egui::Spinner::new());
                    ui.label(&entry.title);
                    // A bar only where the amount of work is known; what the
                    // job says it is doing goes after Cancel, in full.
                    if p.total > 0 {
                        ui.add(
                            egui::ProgressBar::new(p.done as f32 / p.total as f32)
                                .text(format!("{} / {} {}", p.done, p.total, p.unit))
                                .desired_width(260.0),
                        );
                    }
                    ui.label(format!("{:.1} s", entry.started.elapsed().as_secs_f32()));
                    if ui
                        .button("Cancel")
                        .on_hover_text("Stop this job (Esc)")
                        .clicked()
                    {
                        entry.job.cancel();
                    }
                    if !p.message.is_empty() {
                        ui.label(&p.message);
                    }
                });
            }
            ui.horizontal(|ui| {
                let lake = self.runner.lake_dir();
                let shown = lake.canonicalize().unwrap_or_else(|_| lake.to_path_buf());
                ui.weak(format!("lake: {}", shown.display()));
                if let Some((message, at)) = &self.status
                    && at.elapsed() < Duration::from_secs(8)
                {
                    ui.separator();
                    ui.label(message);
                }
            });
        });
    }

    fn browser_ui(&mut self, ui: &mut egui::Ui) {
        let shown = egui::Panel::left("lake")
            .resizable(true)
            .default_size(self.settings.lake_width.unwrap_or(230.0))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.heading("Lake");
                    if ui.small_button("⟳").on_hover_text("Refresh").clicked() {
                        self.commands.push(Command::RefreshLake);
                    }
                    if ui
                        .small_button("➕ Ingest…")
                        .on_hover_text("Add files to the lake")
                        .clicked()
                    {
                        self.commands.push(Command::Add("ingest".into(), None));
                    }
                });
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for (name, entry) in &self.datasets {
                        let icon = match entry.kind {
                            lakebook_core::lake::DatasetKind::Table => "☰",
                            lakebook_core::lake::DatasetKind::Documents => "🗋",
                        };
                        let header = egui::CollapsingHeader::new(format!("{icon} {name}"))
                            .id_salt(("dataset", name))
                            .show(ui, |ui| {
                                ui.weak(format!(
                                    "{} rows · v{}{}",
                                    entry.rows,
                                    entry.version,
                                    if entry.embedding.is_some() {
                                        " · embedded"
                                    } else {
                                        ""
                                    }
                                ));
                                for column in &entry.schema {
                                    let r = ui
                                        .selectable_label(
                                            self.inspect.as_ref()
                                                == Some(&(name.clone(), Some(column.name.clone()))),
                                            format!("{}  : {}", column.name, column.data_type),
                                        )
                                        .on_hover_text("Show in the inspector");
                                    if r.clicked() {
                                        self.commands.push(Command::Inspect(
                                            name.clone(),
                                            Some(column.name.clone()),
                                        ));
                                    }
                                }
                            });
                        header.header_response.context_menu(|ui| {
                            if ui.button("Query in a new cell").clicked() {
                                self.commands.push(Command::NewCellFor(name.clone(), "sql"));
                            }
                            if ui.button("Search in a new cell").clicked() {
                                self.commands
                                    .push(Command::NewCellFor(name.clone(), "search"));
                            }
                            if ui.button("Details and versions").clicked() {
                                self.commands.push(Command::Inspect(name.clone(), None));
                            }
                        });
                        if header.header_response.clicked() {
                            self.commands.push(Command::Inspect(name.clone(), None));
                        }
                    }
                    if self.datasets.is_empty() {
                        ui.weak("The lake is empty. Drop files here, or use Ingest.");
                    }
                });
            });
        self.settings_changed |=
            remember_width(&mut self.settings.lake_width, shown.response.rect.width());
    }

    /// Keeps the window's size for the next session, and writes the settings
    /// once no button is held (not on every frame of a drag).
    fn remember_window(&mut self, ctx: &egui::Context) {
        let (size, held) = ctx.input(|i| {
            (
                i.viewport().inner_rect.map(|r| r.size()),
                i.pointer.any_down(),
            )
        });
        if let Some(size) = size {
            let size = [size.x.round(), size.y.round()];
            if self.settings.window_size != Some(size) {
                self.settings.window_size = Some(size);
                self.settings_changed = true;
            }
        }
        if self.settings_changed && !held {
            self.settings.save();
            self.settings_changed = false;
        }
    }

    fn inspector_ui(&mut self, ui: &mut egui::Ui) {
        let Some((dataset, column)) = self.inspect.clone() else {
            return;
        };
        let shown = egui::Panel::right("inspector")
            .resizable(true)
            .default_size(self.settings.inspector_width.unwrap_or(280.0))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.heading("Inspector");
                    if ui.small_button("✖").on_hover_text("Close").clicked() {
                        self.inspect = None;
                    }
                });
                ui.separator();
                match (&column, &self.profile) {
                    (Some(c), Some(Ok(profile))) => profile_ui(ui, &dataset, c, profile),
                    (Some(_), Some(Err(e))) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    (Some(_), None) => {
                        ui.add(egui::Spinner::new());
                    }
                    (None, _) => {
                        if let Some((_, entry)) = self.datasets.iter().find(|(n, _)| *n == dataset)
                        {
                            dataset_ui(ui, &dataset, entry);
                        }
                        if let Some(version) = versions_ui(ui, self.versions.as_ref()) {
                            self.commands
                                .push(Command::NewCellFor(format!("{dataset}@{version}"), "sql"));
                        }
                    }
                }
            });
        self.settings_changed |= remember_width(
            &mut self.settings.inspector_width,
            shown.response.rect.width(),
        );
    }

    fn notebook_ui(&mut self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical()
            .auto_shrink(false)
            .show(ui, |ui| {
                let ids: Vec<String> = self.notebook.cells.iter().map(|c| c.id.clone()).collect();
                for id in ids {
                    self.cell_ui(ui, &id);
                    ui.add_space(6.0);
                }
                ui.horizontal(|ui| {
                    for kind in self.runner.registry().kinds().to_vec() {
                        if ui
                            .button(format!("➕ {}", kind.label()))
                            .on_hover_text("Add a cell at the end")
                            .clicked()
                        {
                            self.commands
                                .push(Command::Add(kind.name().to_string(), None));
                        }
                    }
                });
            });
    }

    fn cell_ui(&mut self, ui: &mut egui::Ui, id: &str) {
        let Some(i) = self.index_of(id) else {
            return;
        };
        let selected = self.selected.as_deref() == Some(id);
        let stroke = if selected {
            egui::Stroke::new(1.5, ui.visuals().selection.bg_fill)
        } else {
            egui::Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color)
        };
        let frame = egui::Frame::group(ui.style())
            .stroke(stroke)
            .inner_margin(8.0);
        let response = frame
            .show(ui, |ui| {
                ui.push_id(id, |ui| {
                    self.cell_header_ui(ui, i);
                    let collapsed = self.notebook.cells[i].collapsed;
                    if !collapsed {
                        self.cell_body_ui(ui, i, selected);
                    }
                });
            })
            .response;
        // A click anywhere in the cell selects it. Not by sensing clicks on the
        // frame: that widget would sit above the cell's own buttons and take
        // their clicks.
        let clicked_inside =
            response.contains_pointer() && ui.input(|i| i.pointer.primary_clicked());
        if clicked_inside && !selected {
            self.commands.push(Command::Select(id.to_string()));
        }
    }

    fn cell_header_ui(&mut self, ui: &mut egui::Ui, i: usize) {
        let cell = self.notebook.cells[i].clone();
        let id = cell.id.clone();
        let status = self.state(&id).status.clone();
        let job = self.state(&id).job.clone();
        let elapsed = self.state(&id).run.as_ref().map(|r| r.elapsed);
        ui.horizontal(|ui| {
            if status == CellStatus::Running {
                if ui.button("■").on_hover_text("Cancel (Esc)").clicked() {
                    self.commands.push(Command::Cancel(id.clone()));
                }
            } else if ui.button("▶").on_hover_text("Run (Ctrl+Enter)").clicked() {
                self.commands.push(Command::Run(id.clone()));
                self.commands.push(Command::Select(id.clone()));
            }
            let label = self
                .runner
                .registry()
                .get(&cell.kind)
                .map_or(cell.kind.clone(), |k| k.label().to_string());
            ui.label(egui::RichText::new(label).strong());
            ui.weak(&id);
            match status {
                CellStatus::Running => {
                    ui.add(egui::Spinner::new());
                    if let Some(job) = job {
                        let p = job.snapshot();
                        if p.total > 0 {
                            ui.weak(format!("{} / {} {}", p.done, p.total, p.unit));
                        }
                    }
                }
                CellStatus::Done => {
                    ui.weak(format!(
                        "✔ {:.0} ms",
                        elapsed.unwrap_or_default().as_secs_f64() * 1e3
                    ));
                }
                CellStatus::Failed => {
                    ui.colored_label(ui.visuals().error_fg_color, "✖ error");
                }
                CellStatus::Idle => {
                    if elapsed.is_some() {
                        ui.weak("(cached)");
                    }
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .small_button("🗑")
                    .on_hover_text("Delete (Ctrl+Z undoes)")
                    .clicked()
                {
                    self.commands.push(Command::Delete(id.clone()));
                }
                if ui.small_button("🗐").on_hover_text("Duplicate").clicked() {
                    self.commands.push(Command::Duplicate(id.clone()));
                }
                if ui.small_button("⬇").on_hover_text("Move down").clicked() {
                    self.commands.push(Command::Move(id.clone(), 1));
                }
                if ui.small_button("⬆").on_hover_text("Move up").clicked() {
                    self.commands.push(Command::Move(id.clone(), -1));
                }
                let fold = if cell.collapsed { "⏵" } else { "⏷" };
                if ui
                    .small_button(fold)
                    .on_hover_text("Collapse / expand")
                    .clicked()
                {
                    self.commands.push(Command::ToggleCollapse(id.clone()));
                }
                if ui
                    .small_button("⏬")
                    .on_hover_text("Run this cell and all below")
                    .clicked()
                {
                    self.commands.push(Command::RunFrom(id.clone()));
                }
            });
        });
    }

    fn cell_body_ui(&mut self, ui: &mut egui::Ui, i: usize, selected: bool) {
        let names = LakeNames {
            datasets: &self.columns,
        };
        let kind = self.notebook.cells[i].kind.clone();
        let is_markdown = kind == "markdown";
        let mut response = EditorResponse::default();
        if !is_markdown || selected {
            let cell = &mut self.notebook.cells[i];
            response = match self.editors.iter().find(|e| e.kind() == kind) {
                Some(editor) => editor.ui(ui, cell, &names),
                None => raw_editor_ui(ui, cell),
            };
        }
        let id = self.notebook.cells[i].id.clone();
        if response.changed {
            self.touch();
        }
        if let Some(folder) = response.pick {
            self.commands.push(Command::PickFor(id.clone(), folder));
        }
        if is_markdown {
            let text = self.notebook.cells[i].text("text").to_string();
            egui_commonmark::CommonMarkViewer::new().show(ui, &mut self.markdown, &text);
            return;
        }
        let error = self.state(&id).error.clone();
        if let Some(e) = error {
            error_ui(ui, &self.notebook.cells[i], &e);
            return;
        }
        let dark = self.dark;
        let state = self.states.entry(id.clone()).or_insert_with(CellState::new);
        let Some(run) = &state.run else {
            return;
        };
        // Each part in turn; tables take their views in order.
        let mut tables = state.tables.iter_mut();
        let mut table_no = 0;
        for part in run.output.parts() {
            match part {
                CellOutput::Match(output) => {
                    let action = match_view::match_ui(ui, &id, &mut self.notebook.cells[i], output);
                    if action.changed {
                        self.dirty = true;
                        self.last_edit = Instant::now();
                    }
                    if let Some(sql) = action.new_sql {
                        self.commands.push(Command::AddSql(id.clone(), sql));
                    }
                    if let Some(table) = action.match_with {
                        self.notebook.cells[i].set("target", table);
                        self.dirty = true;
                        self.last_edit = Instant::now();
                        self.commands.push(Command::Run(id.clone()));
                    }
                }
                CellOutput::Cluster(c) => {
                    ui.add_space(4.0);
                    ui.weak(format!(
                        "{} rows of {} by {}, {}: {} clusters ({:.2} s)",
                        c.rows, c.dataset, c.by, c.method, c.clusters, c.seconds
                    ));
                    let panel = state.clusters.get_or_insert_with(|| ClusterPanel::new(c));
                    let action = panel.ui(ui, &id);
                    if let Some(sql) = action.new_sql {
                        self.commands.push(Command::AddSql(id.clone(), sql));
                    }
                }
                CellOutput::Graph(g) => {
                    ui.add_space(4.0);
                    ui.monospace(g.summary().trim_end());
                    match state.graph.as_mut() {
                        Some(panel) => {
                            let action = panel.ui(ui, &id);
                            if let Some(sql) = action.new_sql {
                                self.commands.push(Command::AddSql(id.clone(), sql));
                            }
                            let cell = &mut self.notebook.cells[i];
                            if let Some(seeds) = action.seeds
                                && cell.kind == "communities"
                            {
                                let list = seeds.into_iter().map(toml::Value::String).collect();
                                cell.set("seeds", toml::Value::Array(list));
                                self.dirty = true;
                                self.last_edit = Instant::now();
                            }
                        }
                        None if !state.graph_requested && state.status != CellStatus::Running => {
                            // A cached output holds no graph: read the stored one
                            // from the lake (the cell reopens it, nothing is rebuilt).
                            state.graph_requested = true;
                            self.commands.push(Command::Run(id.clone()));
                        }
                        None => {
                            ui.horizontal(|ui| {
                                ui.spinner();
                                ui.small("reading the graph from the lake…");
                            });
                        }
                    }
                }
                // A Markdown cell shows its own text above; other kinds' Markdown parts show here.
                CellOutput::Markdown(text) => {
                    ui.add_space(4.0);
                    egui_commonmark::CommonMarkViewer::new().show(ui, &mut self.markdown, text);
                }
                CellOutput::Text(text) => {
                    ui.add_space(4.0);
                    ui.monospace(text.trim_end());
                }
                CellOutput::Table { .. } => {
                    let view_id = if table_no == 0 {
                        id.clone()
                    } else {
                        format!("{id}-{table_no}")
                    };
                    table_no += 1;
                    if let Some(table) = tables.next() {
                        ui.add_space(4.0);
                        let rows = table.rows();
                        if state.whole {
                            ui.weak(format!("{rows} rows"));
                        } else if state.more.is_some() {
                            ui.horizontal(|ui| {
                                ui.weak(format!("{rows} rows loaded, more as you scroll"));
                                if state.fetching {
                                    ui.spinner();
                                }
                            });
                        } else {
                            ui.weak(format!(
                                "the first {rows} rows (cached): run the cell to scroll further"
                            ));
                        }
                        table.set_partial(!state.whole);
                        table.ui(ui, &view_id);
                        if table.near_end() && state.more.is_some() && !state.fetching {
                            self.commands.push(Command::FetchMore(id.clone()));
                        }
                    }
                }
                CellOutput::Search(groups) => {
                    if groups.is_empty() {
                        ui.weak("no hits");
                    }
                    for (group, table) in groups.iter().zip(tables.by_ref()) {
                        let view_id = format!("{id}-{table_no}");
                        table_no += 1;
                        ui.add_space(4.0);
                        ui.label(
                            egui::RichText::new(format!(
                                "{} · {} · {} search · {} hits",
                                group.dataset,
                                group.kind,
                                group.mode,
                                group.rows.num_rows()
                            ))
                            .strong(),
                        );
                        for note in &group.notes {
                            ui.colored_label(
                                if dark {
                                    egui::Color32::from_rgb(230, 190, 90)
                                } else {
                                    egui::Color32::from_rgb(150, 100, 0)
                                },
                                format!("note: {note}"),
                            );
                        }
                        table.ui(ui, &view_id);
                    }
                }
                CellOutput::Parts(_) => {}
            }
        }
    }
}

/// A failed cell's error, with the failing part of its text marked.
fn error_ui(ui: &mut egui::Ui, cell: &Cell, e: &CellError) {
    ui.add_space(4.0);
    let color = ui.visuals().error_fg_color;
    egui::Frame::new()
        .fill(color.gamma_multiply(0.12))
        .inner_margin(6.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.colored_label(color, format!("Error: {}", e.message));
            if let Some(span) = &e.span {
                let text = cell.text("sql");
                if let (Some(before), Some(bad)) = (text.get(..span.start), text.get(span.clone()))
                {
                    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
                    let line_end = text[span.end..]
                        .find('\n')
                        .map_or(text.len(), |p| span.end + p);
                    ui.horizontal(|ui| {
                        ui.spacing_mut().item_spacing.x = 0.0;
                        ui.monospace(&text[line_start..span.start]);
                        ui.label(
                            egui::RichText::new(bad)
                                .monospace()
                                .underline()
                                .color(color)
                                .strong(),
                        );
                        ui.monospace(&text[span.end..line_end]);
                    });
                }
            }
        });
}

/// A dataset's versions; returns the one whose "Query" button was clicked.
fn versions_ui(
    ui: &mut egui::Ui,
    versions: Option<&Result<Vec<lakebook_core::lake::VersionInfo>, String>>,
) -> Option<u64> {
    ui.add_space(6.0);
    ui.label("versions");
    let mut picked = None;
    match versions {
        None => {
            ui.add(egui::Spinner::new());
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        Some(Ok(list)) => {
            egui::Grid::new("versions")
                .num_columns(4)
                .striped(true)
                .show(ui, |ui| {
                    for v in list.iter().rev() {
                        ui.label(format!(
                            "v{}{}",
                            v.version,
                            if v.latest { " (latest)" } else { "" }
                        ));
                        ui.weak(v.timestamp.format("%Y-%m-%d %H:%M").to_string());
                        ui.label(format!("{} rows", v.rows));
                        if ui
                            .small_button("Query")
                            .on_hover_text("Open this version in a SQL cell")
                            .clicked()
                        {
                            picked = Some(v.version);
                        }
                        ui.end_row();
                    }
                });
        }
    }
    picked
}

fn dataset_ui(ui: &mut egui::Ui, name: &str, entry: &DatasetEntry) {
    ui.heading(name);
    egui::Grid::new("dataset")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let mut row = |label: &str, value: String| {
                ui.label(label);
                ui.label(value);
                ui.end_row();
            };
            row("kind", entry.kind.to_string());
            row("rows", entry.rows.to_string());
            row("version", entry.version.to_string());
            row("columns", entry.schema.len().to_string());
            row(
                "updated",
                entry.updated.format("%Y-%m-%d %H:%M").to_string(),
            );
            if let Some(e) = &entry.embedding {
                row("vectors", format!("{} ({})", e.rows_with_vector, e.model));
                row("embedded from", e.source_columns.join(", "));
            }
        });
    if !entry.sources.is_empty() {
        ui.add_space(6.0);
        ui.label("sources");
        for s in entry.sources.iter().take(20) {
            ui.weak(s);
        }
    }
    for f in &entry.failed {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("failed: {}: {}", f.path, f.reason),
        );
    }
    for note in &entry.notes {
        ui.weak(format!("note: {note}"));
    }
}

impl eframe::App for LakebookApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if self.dirty {
            self.save();
        }
        self.settings.save();
    }
}
