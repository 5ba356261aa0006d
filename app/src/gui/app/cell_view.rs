//! The notebook's cells: header (run, move, collapse, delete), editor, and
//! output part by part.

use super::*;
use crate::gui::probe;
use crate::gui::table_view::TableAction;
use lakebook_core::notebook::TableView;

impl LakebookApp {
    pub(super) fn notebook_ui(&mut self, ui: &mut egui::Ui) {
        // Before any editor is drawn, so the old one no longer has the focus.
        if let Some(id) = self.focus_editor.take() {
            ui.memory_mut(|m| m.request_focus(main_editor_id(&id)));
        }
        self.run_stopped_ui(ui);
        probe::mark("notebook", || probe::rect(ui.max_rect()));
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
                            self.commands.push(Command::Add {
                                kind: kind.name().to_string(),
                                after: None,
                            });
                        }
                    }
                });
            });
    }

    pub(super) fn cell_ui(&mut self, ui: &mut egui::Ui, id: &str) {
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
        // Only a click on the notebook's own layer: a menu or a prompt drawn
        // over the cell takes its clicks.
        let clicked_inside = response.contains_pointer()
            && ui.input(|i| i.pointer.primary_clicked())
            && ui
                .input(|i| i.pointer.interact_pos())
                .is_some_and(|p| ui.ctx().layer_id_at(p) == Some(ui.layer_id()));
        // The cell holding the keyboard focus is the selected one, so that
        // Ctrl+Enter runs the cell being typed in.
        let focus_inside = ui
            .memory(|m| m.focused())
            .and_then(|f| ui.ctx().read_response(f))
            // A field of a window over the cell (the palette) is not in it.
            .is_some_and(|r| {
                r.layer_id == ui.layer_id() && response.rect.contains(r.rect.center())
            });
        probe::mark(format!("cell:{id}"), || probe::rect(response.rect));
        if selected && self.scroll_to_selected {
            response.scroll_to_me(None);
            self.scroll_to_selected = false;
        }
        if focus_inside {
            probe::mark("focus", || id.into());
        }
        if let Some(editor) = ui.ctx().read_response(main_editor_id(id)) {
            probe::mark(format!("editor:{id}"), || probe::rect(editor.rect));
        }
        if (clicked_inside || focus_inside) && !selected {
            self.commands.push(Command::Select(id.to_string()));
        }
    }

    /// Says why the last run of several cells stopped, with the cells left
    /// unrun, and offers to run them anyway.
    fn run_stopped_ui(&mut self, ui: &mut egui::Ui) {
        let Some(stopped) = &self.run_stopped else {
            return;
        };
        let colour = if stopped.cancelled {
            ui.visuals().warn_fg_color
        } else {
            ui.visuals().error_fg_color
        };
        let what = if stopped.cancelled {
            "was cancelled"
        } else {
            "failed"
        };
        let count = stopped.rest.len();
        let message = format!(
            "Run stopped: cell {} {what}, so the {count} cell{} after it did not run ({}).",
            stopped.at,
            if count == 1 { "" } else { "s" },
            stopped.rest.join(", ")
        );
        let (mut run_rest, mut dismiss) = (false, false);
        egui::Frame::new()
            .fill(colour.gamma_multiply(0.12))
            .inner_margin(6.0)
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.colored_label(colour, message);
                    run_rest = ui
                        .button("Run them anyway")
                        .on_hover_text("Run the cells that were left, in order")
                        .clicked();
                    dismiss = ui.small_button("✖").on_hover_text("Dismiss").clicked();
                });
            });
        ui.add_space(4.0);
        if run_rest && let Some(stopped) = self.run_stopped.take() {
            self.run_queue.extend(stopped.rest);
        } else if dismiss {
            self.run_stopped = None;
        }
    }

    pub(super) fn cell_header_ui(&mut self, ui: &mut egui::Ui, i: usize) {
        let cell = self.notebook.cells[i].clone();
        let id = cell.id.clone();
        let status = self.state(&id).status.clone();
        let job = self.state(&id).job.clone();
        let elapsed = self.state(&id).run().map(|r| r.elapsed);
        ui.horizontal(|ui| {
            if status == CellStatus::Running {
                if ui.button("■").on_hover_text("Cancel (Esc)").clicked() {
                    self.commands.push(Command::Cancel(id.clone()));
                }
            } else {
                let run = ui.button("▶").on_hover_text("Run (Ctrl+Enter)");
                probe::mark(format!("run:{id}"), || probe::rect(run.rect));
                if run.clicked() {
                    self.commands.push(Command::Run(id.clone()));
                    self.commands.push(Command::Select(id.clone()));
                }
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
                CellStatus::Cancelled => {
                    ui.weak("⏹ cancelled");
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
                    self.commands.push(Command::Move {
                        id: id.clone(),
                        by: 1,
                    });
                }
                if ui.small_button("⬆").on_hover_text("Move up").clicked() {
                    self.commands.push(Command::Move {
                        id: id.clone(),
                        by: -1,
                    });
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

    pub(super) fn cell_body_ui(&mut self, ui: &mut egui::Ui, i: usize, selected: bool) {
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
            self.commands.push(Command::PickFor {
                id: id.clone(),
                folder,
            });
        }
        if is_markdown {
            let text = self.notebook.cells[i].text("text").to_string();
            egui_commonmark::CommonMarkViewer::new().show(ui, &mut self.markdown, &text);
            return;
        }
        let dark = self.dark;
        let state = self.states.entry(id.clone()).or_insert_with(CellState::new);
        let run = match &state.outcome {
            Some(Ok(run)) => run,
            Some(Err(e)) => {
                error_ui(ui, &self.notebook.cells[i], e);
                return;
            }
            None => return,
        };
        // Each part in turn, with its view.
        let mut table_no = 0;
        let mut table_actions = Vec::new();
        let running = state.status == CellStatus::Running;
        for (part, view) in run.output.parts().into_iter().zip(state.views.iter_mut()) {
            match (part, view) {
                (CellOutput::Match(output), _) => {
                    let action = match_view::match_ui(ui, &id, &mut self.notebook.cells[i], output);
                    if action.changed {
                        self.dirty = true;
                        self.last_edit = Instant::now();
                    }
                    if let Some(sql) = action.new_sql {
                        self.commands.push(Command::AddSql {
                            after: id.clone(),
                            sql,
                        });
                    }
                    if let Some(table) = action.match_with {
                        self.notebook.cells[i].set("target", table);
                        self.dirty = true;
                        self.last_edit = Instant::now();
                        self.commands.push(Command::Run(id.clone()));
                    }
                }
                (CellOutput::Cluster(c), PartView::Clusters(panel)) => {
                    ui.add_space(4.0);
                    ui.weak(format!(
                        "{} rows of {} by {}, {}: {} clusters ({:.2} s)",
                        c.rows, c.dataset, c.by, c.method, c.clusters, c.seconds
                    ));
                    let action = panel.ui(ui, &id);
                    if let Some(sql) = action.new_sql {
                        self.commands.push(Command::AddSql {
                            after: id.clone(),
                            sql,
                        });
                    }
                    if let Some((asked, rows)) = action.members {
                        let result = asked.saves().then(|| ResultToSave {
                            label: format!("{id}-members"),
                            rows,
                            query: None,
                        });
                        table_actions.push((asked, result));
                    }
                }
                (CellOutput::Graph(g), PartView::Graph(graph)) => {
                    ui.add_space(4.0);
                    ui.monospace(g.summary().trim_end());
                    match graph {
                        GraphView::Shown(panel) => {
                            let action = panel.ui(ui, &id);
                            if let Some(svg) = action.export {
                                self.commands.push(Command::ExportGraph {
                                    id: id.clone(),
                                    svg,
                                });
                            }
                            if let Some(sql) = action.new_sql {
                                self.commands.push(Command::AddSql {
                                    after: id.clone(),
                                    sql,
                                });
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
                        GraphView::Missing if !running => {
                            // A cached output holds no graph: read the stored one
                            // from the lake (the cell reopens it, nothing is rebuilt).
                            *graph = GraphView::Requested;
                            self.commands.push(Command::Run(id.clone()));
                        }
                        GraphView::Missing | GraphView::Requested => {
                            ui.horizontal(|ui| {
                                ui.spinner();
                                ui.small("reading the graph from the lake…");
                            });
                        }
                    }
                }
                // A Markdown cell shows its own text above; other kinds' Markdown parts show here.
                (CellOutput::Markdown(text), _) => {
                    ui.add_space(4.0);
                    egui_commonmark::CommonMarkViewer::new().show(ui, &mut self.markdown, text);
                }
                (CellOutput::Text(text), _) => {
                    ui.add_space(4.0);
                    ui.monospace(text.trim_end());
                }
                (CellOutput::Table { .. }, PartView::Table(table)) => {
                    let view_id = if table_no == 0 {
                        id.clone()
                    } else {
                        format!("{id}-{table_no}")
                    };
                    table_no += 1;
                    ui.add_space(4.0);
                    let rows = table.rows();
                    let paging = &state.paging;
                    if !paging.partial {
                        ui.weak(format!("{rows} rows"));
                    } else if paging.more.is_some() {
                        ui.horizontal(|ui| {
                            ui.weak(format!("{rows} rows loaded, more as you scroll"));
                            if paging.fetching {
                                ui.spinner();
                            }
                        });
                    } else {
                        ui.weak(format!(
                            "the first {rows} rows (cached): run the cell to scroll further"
                        ));
                    }
                    table.set_partial(paging.partial);
                    let cell = &mut self.notebook.cells[i];
                    // A result only partly loaded is saved by running its query again.
                    let query = (paging.partial && cell.kind == "sql").then(|| {
                        let pins = cell.read.clone().into_iter().collect();
                        (cell.text("sql").to_string(), pins)
                    });
                    let view = (view_id.as_str(), table_no - 1);
                    table_actions.push(shown_table(ui, table, cell, view, query, &mut self.dirty));
                    if table.near_end() && paging.more.is_some() && !paging.fetching {
                        self.commands.push(Command::FetchMore(id.clone()));
                    }
                }
                (CellOutput::Search(groups), PartView::Search(tables)) => {
                    if groups.is_empty() {
                        ui.weak("no hits");
                    }
                    for (group, table) in groups.iter().zip(tables.iter_mut()) {
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
                        let cell = &mut self.notebook.cells[i];
                        let view = (view_id.as_str(), table_no - 1);
                        table_actions.push(shown_table(
                            ui,
                            table,
                            cell,
                            view,
                            None,
                            &mut self.dirty,
                        ));
                    }
                }
                // Parts are flattened; a table that could not be shown shows nothing.
                _ => {}
            }
        }
        for (action, result) in table_actions {
            self.table_action(action, result);
        }
    }
}

/// Draws a result table as its cell last showed it (the `n`-th of the
/// cell's tables, drawn as `view_id`), keeps any change of how it is shown
/// in the cell, and hands back what else was asked of it, with the result
/// when that is a save.
fn shown_table(
    ui: &mut egui::Ui,
    table: &mut ResultTable,
    cell: &mut Cell,
    (view_id, n): (&str, usize),
    query: Option<(String, HashMap<String, u64>)>,
    dirty: &mut bool,
) -> (TableAction, Option<ResultToSave>) {
    let key = n.to_string();
    table.apply_view(cell.views.get(&key));
    let action = table.ui(ui, view_id);
    // Kept once the mouse is let go (not on every frame of a column drag);
    // a table shown as it always is leaves the notebook file as it was.
    if !ui.input(|i| i.pointer.any_down()) {
        let now = table.view();
        let stored = cell.views.get(&key);
        let plain = now
            == TableView {
                chart: "table".into(),
                ..TableView::default()
            };
        if stored != Some(&now) && !(stored.is_none() && plain) {
            cell.views.insert(key, now);
            *dirty = true;
        }
    }
    let result = action.saves().then(|| ResultToSave {
        label: view_id.to_string(),
        rows: table.batch(),
        query,
    });
    (action, result)
}

/// A failed cell's error, with the failing part of its text marked.
pub(super) fn error_ui(ui: &mut egui::Ui, cell: &Cell, e: &CellError) {
    ui.add_space(4.0);
    if e.cancelled {
        ui.weak("Cancelled before it finished; run the cell again for its result.");
        return;
    }
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
