//! The keyboard's ways in: the command palette (Ctrl+K: every command with
//! its shortcut, found by typing), moving between cells without the mouse
//! (Up/Down, A/B to add above or below, Enter to edit, as in Jupyter), and
//! Quit, which asks first while work is running.

use super::*;

/// Opens the command palette.
pub(super) const PALETTE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::K);
/// Quits.
pub(super) const QUIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Q);

/// The palette while it is open.
#[derive(Debug, Default)]
pub(super) struct Palette {
    /// What was typed.
    query: String,
    /// The highlighted entry among those that match.
    chosen: usize,
}

/// A command as the palette lists it.
struct Entry {
    label: String,
    shortcut: &'static str,
    command: Command,
}

/// Whether every word of `query` occurs in `label`, ignoring case.
fn matches(label: &str, query: &str) -> bool {
    let label = label.to_lowercase();
    query
        .to_lowercase()
        .split_whitespace()
        .all(|word| label.contains(word))
}

impl LakebookApp {
    /// Every command the palette offers, with its shortcut.
    fn palette_entries(&self) -> Vec<Entry> {
        let entry = |label: &str, shortcut: &'static str, command: Command| Entry {
            label: label.to_string(),
            shortcut,
            command,
        };
        let mut entries = vec![
            entry("Run all cells", "", Command::RunAll),
            entry("Cancel all jobs", "", Command::CancelAll),
            entry("New notebook", "Ctrl+N", Command::New),
            entry("Open notebook…", "Ctrl+O", Command::Open),
            entry("Save notebook", "Ctrl+S", Command::Save),
            entry("Save notebook as…", "Ctrl+Shift+S", Command::SaveAs),
            entry("Undo (cells)", "Ctrl+Z", Command::Undo),
            entry("Redo (cells)", "Ctrl+Shift+Z", Command::Redo),
            entry("Refresh the lake", "", Command::RefreshLake),
            entry("Toggle light / dark theme", "", Command::ToggleTheme),
            entry("Quit", "Ctrl+Q", Command::Quit),
        ];
        if let Some(id) = self.selected.clone() {
            let cell = |label: &str, shortcut: &'static str, command: Command| Entry {
                label: format!("{label} (cell {id})"),
                shortcut,
                command,
            };
            let mut for_cell = vec![
                cell("Run cell", "Ctrl+Enter", Command::Run(id.clone())),
                cell(
                    "Run cell and select the next",
                    "Shift+Enter",
                    Command::RunAndAdvance(id.clone()),
                ),
                cell(
                    "Run this cell and all below",
                    "",
                    Command::RunFrom(id.clone()),
                ),
                cell("Cancel cell", "Esc", Command::Cancel(id.clone())),
                cell(
                    "Move cell up",
                    "",
                    Command::Move {
                        id: id.clone(),
                        by: -1,
                    },
                ),
                cell(
                    "Move cell down",
                    "",
                    Command::Move {
                        id: id.clone(),
                        by: 1,
                    },
                ),
                cell("Duplicate cell", "", Command::Duplicate(id.clone())),
                cell(
                    "Fold / unfold cell",
                    "",
                    Command::ToggleCollapse(id.clone()),
                ),
                cell("Delete cell", "", Command::Delete(id.clone())),
            ];
            for_cell.append(&mut entries);
            entries = for_cell;
        }
        for kind in self.runner.registry().kinds() {
            let add = |place: &str, shortcut: &'static str, command: Command| Entry {
                label: format!("Add {} cell {place}", kind.label()),
                shortcut,
                command,
            };
            let name = kind.name().to_string();
            match &self.selected {
                Some(id) => {
                    let (above, below) = if name == "sql" { ("A", "B") } else { ("", "") };
                    entries.push(add(
                        "below",
                        below,
                        Command::Add {
                            kind: name.clone(),
                            after: Some(id.clone()),
                        },
                    ));
                    entries.push(add(
                        "above",
                        above,
                        Command::AddAbove {
                            kind: name,
                            before: id.clone(),
                        },
                    ));
                }
                None => entries.push(add(
                    "at the end",
                    "",
                    Command::Add {
                        kind: name,
                        after: None,
                    },
                )),
            }
        }
        entries
    }

    /// The palette, while it is open: type to narrow, Up/Down to choose,
    /// Enter to run, Esc to close.
    pub(super) fn palette_ui(&mut self, ctx: &egui::Context) {
        let Some(mut palette) = self.palette.take() else {
            return;
        };
        let entries: Vec<Entry> = self
            .palette_entries()
            .into_iter()
            .filter(|e| matches(&e.label, &palette.query))
            .collect();
        let (up, down, enter, escape) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::ArrowUp),
                i.consume_key(Modifiers::NONE, Key::ArrowDown),
                i.consume_key(Modifiers::NONE, Key::Enter),
                i.consume_key(Modifiers::NONE, Key::Escape),
            )
        });
        if down {
            palette.chosen += 1;
        }
        if up {
            palette.chosen = palette.chosen.saturating_sub(1);
        }
        palette.chosen = palette.chosen.min(entries.len().saturating_sub(1));
        let mut run = enter.then_some(palette.chosen);
        let modal = egui::Modal::new(egui::Id::NULL.with("command palette")).show(ctx, |ui| {
            ui.set_width(460.0);
            let field = ui.add(
                egui::TextEdit::singleline(&mut palette.query)
                    .hint_text("Type a command…")
                    .desired_width(f32::INFINITY),
            );
            field.request_focus();
            crate::gui::probe::mark("palette", || crate::gui::probe::rect(field.rect));
            if field.changed() {
                palette.chosen = 0;
            }
            ui.separator();
            egui::ScrollArea::vertical()
                .max_height(360.0)
                .show(ui, |ui| {
                    if entries.is_empty() {
                        ui.weak("no command matches");
                    }
                    for (n, entry) in entries.iter().enumerate() {
                        let row = ui.horizontal(|ui| {
                            let item = ui.selectable_label(n == palette.chosen, &entry.label);
                            ui.with_layout(
                                egui::Layout::right_to_left(egui::Align::Center),
                                |ui| {
                                    ui.weak(entry.shortcut);
                                },
                            );
                            item
                        });
                        let item = row.inner;
                        crate::gui::probe::mark(format!("palette:{}", entry.label), || {
                            crate::gui::probe::rect(item.rect)
                        });
                        if n == palette.chosen && (up || down) {
                            item.scroll_to_me(None);
                        }
                        if item.clicked() {
                            run = Some(n);
                        }
                    }
                });
        });
        let closed = escape || modal.should_close();
        match run.and_then(|n| entries.into_iter().nth(n)) {
            Some(entry) => self.commands.push(entry.command),
            None if !closed => self.palette = Some(palette),
            None => {}
        }
    }

    /// Keys that work on the selected cell while no text field has the
    /// keyboard (Jupyter's command mode): Up/Down select, A/B add a SQL
    /// cell above/below, Enter edits.
    pub(super) fn cell_keys(&mut self, ctx: &egui::Context) {
        let modal = self.palette.is_some() || self.prompt.is_some() || self.confirm_quit;
        if ctx.egui_wants_keyboard_input() || modal {
            return;
        }
        let (up, down, above, below, edit) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::ArrowUp)
                    || i.consume_key(Modifiers::NONE, Key::K),
                i.consume_key(Modifiers::NONE, Key::ArrowDown)
                    || i.consume_key(Modifiers::NONE, Key::J),
                i.consume_key(Modifiers::NONE, Key::A),
                i.consume_key(Modifiers::NONE, Key::B),
                i.consume_key(Modifiers::NONE, Key::Enter),
            )
        });
        let at = self.selected.as_deref().and_then(|id| self.index_of(id));
        let last = self.notebook.cells.len().checked_sub(1);
        let select = match (at, up, down) {
            (Some(i), true, _) => Some(i.saturating_sub(1)),
            (Some(i), _, true) => Some((i + 1).min(last.unwrap_or(0))),
            (None, true, _) => last,
            (None, _, true) => last.map(|_| 0),
            _ => None,
        };
        if let Some(i) = select
            && let Some(cell) = self.notebook.cells.get(i)
        {
            self.selected = Some(cell.id.clone());
            self.scroll_to_selected = true;
        }
        let kind = "sql".to_string();
        match (&self.selected, above, below) {
            (Some(id), true, _) => self.commands.push(Command::AddAbove {
                kind,
                before: id.clone(),
            }),
            (after, _, true) => self.commands.push(Command::Add {
                kind,
                after: after.clone(),
            }),
            _ => {}
        }
        if edit && let Some(id) = self.selected.clone() {
            self.focus_editor = Some(id);
        }
    }

    /// Quits, unless work is running: then it asks first.
    pub(super) fn quit(&mut self, ctx: &egui::Context) {
        if self.busy() && !self.quitting {
            self.confirm_quit = true;
            return;
        }
        self.quitting = true;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// The window's close button, and the question asked while work runs.
    pub(super) fn quit_ui(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && self.busy() && !self.quitting {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm_quit = true;
        }
        if !self.confirm_quit {
            return;
        }
        let running: Vec<String> = self.jobs.iter().map(|j| j.title.clone()).collect();
        let queued = self.run_queue.len();
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::NULL.with("quit while busy")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading("Work is still running");
            for title in &running {
                ui.label(format!("• {title}"));
            }
            if queued > 0 {
                ui.label(format!("• {queued} cells waiting to run"));
            }
            ui.label(
                "Quitting cancels it. The notebook is saved, and nothing half-done \
                 reaches the lake.",
            );
            ui.horizontal(|ui| {
                let quit = ui.button("Quit anyway");
                crate::gui::probe::mark("quit anyway", || crate::gui::probe::rect(quit.rect));
                if quit.clicked() {
                    answer = Some(true);
                }
                let stay = ui.button("Keep working");
                crate::gui::probe::mark("keep working", || crate::gui::probe::rect(stay.rect));
                if stay.clicked() {
                    answer = Some(false);
                }
            });
        });
        if modal.should_close() && answer.is_none() {
            answer = Some(false);
        }
        match answer {
            Some(true) => {
                self.confirm_quit = false;
                self.apply(Command::CancelAll);
                self.run_queue.clear();
                self.quitting = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Some(false) => self.confirm_quit = false,
            None => {}
        }
    }
}
