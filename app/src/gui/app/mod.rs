//! The notebook window: the app's state and its frame loop. UI code only
//! queues [`Command`]s, applied in one place ([`commands`]); background work
//! ([`tasks`]) reports back over a channel drained once per frame; the side
//! panels ([`panels`]) and the notebook's cells ([`cell_view`]) draw
//! themselves; a cell's state and output views are in [`state`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Receiver;

use egui::{Key, KeyboardShortcut, Modifiers};
use lakebook_core::Job;
use lakebook_core::lake::DatasetEntry;
use lakebook_core::notebook::pager::PAGE_ROWS;
use lakebook_core::notebook::{
    Cell, CellError, CellOutput, CellRun, Notebook, ResultPager, Runner, saved,
};

use super::cells::{CellEditor, EditorResponse, LakeNames, editors, main_editor_id, raw_editor_ui};
use super::cluster_view::ClusterPanel;
use super::dialogs::{Choose, Chosen, FileRequest, PathPrompt, Prompted, choose_native};
use super::graph_view::GraphPanel;
use super::inspector::{profile_column, profile_ui};
use super::match_view;
use super::settings::Settings;
use super::table_view::ResultTable;
use super::toasts::Toasts;
use super::work::{JobEntry, Outbox, PickPurpose, Spawner, WorkResult, channel};
use lakebook_core::profile::ColumnProfile;

mod browser;
mod cell_view;
mod commands;
mod palette;
mod panels;
mod probe_state;
mod results;
mod state;
mod tasks;

pub use commands::Command;
use commands::profile_title;
pub use results::ResultToSave;
pub use state::CellStatus;
use state::{CellState, GraphView, PartView, RunStopped, remember_width};

/// The notebook window.
pub struct LakebookApp {
    /// Settings changed since they were last written (panel widths, window size).
    settings_changed: bool,
    rt: tokio::runtime::Handle,
    /// Views' heavy work (graph levels, indexes, exports) as jobs.
    spawner: Spawner,
    runner: Arc<Runner>,
    notebook: Notebook,
    path: Option<PathBuf>,
    dirty: bool,
    last_edit: Instant,
    states: HashMap<String, CellState>,
    selected: Option<String>,
    /// A cell whose main editor takes the keyboard focus next frame (the
    /// selection moved to it, so typing and Ctrl+Enter go to the same cell).
    focus_editor: Option<String>,
    /// Why the last run of several cells stopped early, shown above the cells.
    run_stopped: Option<RunStopped>,
    /// The path prompt shown when no file dialog can be, and what it is for.
    prompt: Option<(PickPurpose, PathPrompt)>,
    /// Text that datasets (or one of their columns) must contain to be listed.
    lake_filter: String,
    /// Datasets removed in this session, the last one first to bring back.
    removed: Vec<String>,
    /// A dataset being renamed, and the name typed so far.
    renaming: Option<(String, String)>,
    /// Datasets that hold a stored graph's nodes or edges, with the graph.
    graph_parts: BTreeMap<String, String>,
    /// The first rows of the dataset in the inspector.
    preview: Option<(String, Result<ResultTable, String>)>,
    /// The command palette, while open.
    palette: Option<palette::Palette>,
    /// Bring the selected cell into view (it was chosen with the keyboard).
    scroll_to_selected: bool,
    /// Quit was asked for (applied once the frame's commands are).
    want_quit: bool,
    /// Asking whether to quit while work runs.
    confirm_quit: bool,
    /// Quitting: the window closes without asking again.
    quitting: bool,
    /// The result a Save dialog is open for.
    pending_save: Option<ResultToSave>,
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
    /// Undo and redo of changes to the cells.
    history: lakebook_core::notebook::History,
    /// Notices of finished, saved and failed work.
    toasts: Toasts,
    settings: Settings,
    dark: bool,
    /// Asked the window to close (start-up benchmark).
    closing: bool,
    /// The title last given to the window (sent again only when it changes:
    /// every viewport command asks for another frame).
    window_title: String,
}

const RUN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
const RUN_ADVANCE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::SHIFT, Key::Enter);
const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const SAVE_AS: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::S);
const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
const REDO: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
const REDO_Y: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);

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
            spawner: Spawner::new(rt.clone(), ctx.clone()),
            rt,
            runner,
            notebook,
            path,
            dirty: false,
            settings_changed: false,
            last_edit: Instant::now(),
            states: HashMap::new(),
            selected: None,
            focus_editor: None,
            run_stopped: None,
            prompt: None,
            pending_save: None,
            palette: None,
            lake_filter: String::new(),
            removed: Vec::new(),
            renaming: None,
            graph_parts: BTreeMap::new(),
            preview: None,
            scroll_to_selected: false,
            want_quit: false,
            confirm_quit: false,
            quitting: false,
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
            history: Default::default(),
            toasts: Toasts::default(),
            settings,
            dark,
            closing: false,
            window_title: String::new(),
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
        self.states.get(id)?.run().map(|r| r.output.rows())
    }

    /// Rows of a cell's result table as loaded so far (pages fetched).
    pub fn loaded_rows(&self, id: &str) -> Option<usize> {
        let state = self.states.get(id)?;
        state.views.iter().find_map(|view| match view {
            PartView::Table(table) => Some(table.rows()),
            PartView::Search(tables) => tables.first().map(ResultTable::rows),
            _ => None,
        })
    }

    /// Whether any cell is running or fetching rows.
    pub fn busy(&self) -> bool {
        !self.jobs.is_empty()
            || !self.run_queue.is_empty()
            || self.states.values().any(|s| s.paging.fetching)
    }

    /// Queues a command, as a click would.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// Tells the person something (a notice that goes by itself).
    pub(super) fn say(&mut self, message: impl Into<String>) {
        self.toasts.news(message);
    }

    /// Tells the person something failed (a notice that stays until closed).
    pub(super) fn fail(&mut self, message: impl Into<String>) {
        self.toasts.failure(message);
    }

    pub(super) fn state(&mut self, id: &str) -> &mut CellState {
        self.states
            .entry(id.to_string())
            .or_insert_with(CellState::new)
    }

    pub(super) fn index_of(&self, id: &str) -> Option<usize> {
        self.notebook.cells.iter().position(|c| c.id == id)
    }

    pub(super) fn touch(&mut self) {
        self.dirty = true;
        self.last_edit = Instant::now();
    }

    pub(super) fn shortcuts(&mut self, ctx: &egui::Context) {
        // Save as first: Ctrl+S would also match Ctrl+Shift+S.
        let (save_as, open, new, palette, quit) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&SAVE_AS),
                i.consume_shortcut(&OPEN),
                i.consume_shortcut(&NEW),
                i.consume_shortcut(&palette::PALETTE),
                i.consume_shortcut(&palette::QUIT),
            )
        });
        if palette {
            self.palette = match self.palette {
                Some(_) => None,
                None => Some(palette::Palette::default()),
            };
        }
        for (pressed, command) in [
            (save_as, Command::SaveAs),
            (open, Command::Open),
            (new, Command::New),
            (quit, Command::Quit),
        ] {
            if pressed {
                self.commands.push(command);
            }
        }
        // In a text field, Ctrl+Z is the field's own undo.
        let typing = ctx.egui_wants_keyboard_input();
        let (run, advance, save, redo, undo, escape, dropped) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&RUN),
                i.consume_shortcut(&RUN_ADVANCE),
                i.consume_shortcut(&SAVE),
                // Ctrl+Shift+Z first: Ctrl+Z would match it too.
                !typing && (i.consume_shortcut(&REDO) || i.consume_shortcut(&REDO_Y)),
                !typing && i.consume_shortcut(&UNDO),
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
        if redo {
            self.commands.push(Command::Redo);
        }
        if undo {
            self.commands.push(Command::Undo);
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
        self.jobs.extend(self.spawner.take_started());
        self.jobs.retain(|j| !j.job.is_finished());
        self.shortcuts(&ctx);
        self.cell_keys(&ctx);
        self.menu_ui(ui);
        self.jobs_ui(ui);
        self.browser_ui(ui);
        self.inspector_ui(ui);
        egui::CentralPanel::default().show(ui, |ui| self.notebook_ui(ui));
        self.prompt_ui(&ctx);
        self.palette_ui(&ctx);
        self.quit_ui(&ctx);
        self.toasts.ui(&ctx);
        for command in std::mem::take(&mut self.commands) {
            self.apply(command);
        }
        if std::mem::take(&mut self.want_quit) {
            self.quit(&ctx);
        }
        self.history.track(&self.notebook.cells, Instant::now());
        self.pump_queue();
        if self.dirty && self.last_edit.elapsed() >= AUTOSAVE_AFTER {
            self.save();
        }
        self.remember_window(&ctx);
        super::probe::end_frame(|| self.probe_state(&ctx));
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
        if title != self.window_title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.window_title = title;
        }
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

    /// Keeps the window's size for the next session, and writes the settings
    /// once no button is held (not on every frame of a drag).
    pub(super) fn remember_window(&mut self, ctx: &egui::Context) {
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
