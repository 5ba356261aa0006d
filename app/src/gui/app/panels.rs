//! The side panels and menus: the menu bar, running jobs, and the column
//! inspector, with a dataset's versions, details and first rows.

use super::*;

impl LakebookApp {
    pub(super) fn menu_ui(&mut self, ui: &mut egui::Ui) {
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
                    ui.separator();
                    if ui
                        .add(egui::Button::new("Quit").shortcut_text("Ctrl+Q"))
                        .clicked()
                    {
                        self.commands.push(Command::Quit);
                    }
                });
                ui.menu_button("Cell", |ui| {
                    for kind in self.runner.registry().kinds().to_vec() {
                        if ui.button(format!("Add {}", kind.label())).clicked() {
                            self.commands.push(Command::Add {
                                kind: kind.name().to_string(),
                                after: self.selected.clone(),
                            });
                        }
                    }
                    ui.separator();
                    if ui.button("Run all").clicked() {
                        self.commands.push(Command::RunAll);
                    }
                    let undo = egui::Button::new("Undo").shortcut_text("Ctrl+Z");
                    if ui.add_enabled(self.history.can_undo(), undo).clicked() {
                        self.commands.push(Command::Undo);
                    }
                    let redo = egui::Button::new("Redo").shortcut_text("Ctrl+Shift+Z");
                    if ui.add_enabled(self.history.can_redo(), redo).clicked() {
                        self.commands.push(Command::Redo);
                    }
                });
                ui.menu_button("View", |ui| {
                    let palette =
                        ui.add(egui::Button::new("Command palette…").shortcut_text("Ctrl+K"));
                    crate::gui::probe::mark("menu:palette", || {
                        crate::gui::probe::rect(palette.rect)
                    });
                    if palette.clicked() {
                        self.palette = Some(palette::Palette::default());
                    }
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
                let run_all = ui
                    .button("▶▶ Run all")
                    .on_hover_text("Run every cell, top to bottom");
                crate::gui::probe::mark("button:run all", || crate::gui::probe::rect(run_all.rect));
                if run_all.clicked() {
                    self.commands.push(Command::RunAll);
                }
                ui.label(egui::RichText::new(&self.notebook.title).strong());
            });
        });
    }

    pub(super) fn jobs_ui(&mut self, ui: &mut egui::Ui) {
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
                        self.commands.push(Command::CancelJob {
                            title: entry.title.clone(),
                        });
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
            });
        });
    }

    pub(super) fn inspector_ui(&mut self, ui: &mut egui::Ui) {
        let Some((dataset, column)) = self.inspect.clone() else {
            return;
        };
        let range = side_panel_range(ui.ctx());
        let shown = egui::Panel::right("inspector")
            .resizable(true)
            .size_range(range)
            .default_size(clamp_width(self.settings.inspector_width, 280.0, range))
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
                        match &mut self.preview {
                            Some((shown, Ok(table))) if *shown == dataset => {
                                ui.add_space(6.0);
                                ui.strong("First rows");
                                let _ = table.ui(ui, "preview");
                            }
                            Some((shown, Err(e))) if *shown == dataset => {
                                ui.colored_label(ui.visuals().error_fg_color, e.as_str());
                            }
                            _ => {}
                        }
                        if let Some(version) = versions_ui(ui, self.versions.as_ref()) {
                            self.commands.push(Command::NewCellFor {
                                dataset: format!("{dataset}@{version}"),
                                kind: "sql",
                            });
                        }
                    }
                }
            });
        crate::gui::probe::mark("inspector", || crate::gui::probe::rect(shown.response.rect));
        self.settings_changed |= remember_width(
            &mut self.settings.inspector_width,
            shown.response.rect.width(),
        );
    }
}

/// Widths a side panel may take: at least 160 px, at most a third of the
/// window (and never more than 560 px), so the notebook keeps the middle.
pub(super) fn side_panel_range(ctx: &egui::Context) -> egui::Rangef {
    let max = (ctx.content_rect().width() / 3.0).clamp(160.0, 560.0);
    egui::Rangef::new(160.0, max)
}

/// A stored width (or the default) clamped into `range`: a width saved on a
/// larger screen, or by an older version, cannot cover the notebook.
pub(super) fn clamp_width(stored: Option<f32>, default: f32, range: egui::Rangef) -> f32 {
    let width = stored.filter(|w| w.is_finite()).unwrap_or(default);
    width.clamp(range.min, range.max)
}

/// A dataset's versions; returns the one whose "Query" button was clicked.
pub(super) fn versions_ui(
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

pub(super) fn dataset_ui(ui: &mut egui::Ui, name: &str, entry: &DatasetEntry) {
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
