//! A result table that scrolls smoothly through millions of rows: the rows
//! stay in Arrow, and only the visible ones become widgets. Sort by clicking a
//! header, filter, copy a cell by clicking it or the rows as TSV or
//! Markdown, save the result, and chart it (`chart`).

mod chart;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::{SortColumn, SortOptions, lexsort_to_indices};
use arrow::datatypes::SchemaRef;
use egui_extras::{Column, TableBuilder};
use lakebook_core::notebook::TableView;
use lakebook_core::result_file::ResultFormat;
use lakebook_core::table_text::{TableText, one_line};

/// Rows from the end of those loaded at which the next page is fetched.
const NEAR_END_ROWS: usize = 20_000;

use chart::column_picker;
pub use chart::{ChartKind, chart_caveat};

/// `text` cut to `max` characters, with `…` when it was longer.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// What a person asked of a result table that the app carries out.
#[derive(Debug, Default)]
pub struct TableAction {
    /// Save the whole result as a file of this format (the app asks where).
    pub save_file: Option<ResultFormat>,
    /// Save the whole result as a dataset of this name.
    pub save_dataset: Option<String>,
    /// Something to tell the person ("copied 12 rows as TSV").
    pub said: Option<String>,
}

impl TableAction {
    /// Whether the person asked to save the result (as a file or a dataset).
    pub fn saves(&self) -> bool {
        self.save_file.is_some() || self.save_dataset.is_some()
    }
}

/// Rows at most copied to the clipboard at once.
const MAX_COPIED_ROWS: usize = 100_000;

/// Characters of a value shown in its cell (the tooltip shows more).
const CELL_CHARS: usize = 200;

/// Characters of a value its tooltip shows.
const TOOLTIP_CHARS: usize = 4_000;

/// A result on screen.
pub struct ResultTable {
    batch: RecordBatch,
    /// The last row index drawn in the latest frame.
    last_drawn: std::cell::Cell<usize>,
    /// More rows of the result exist than are loaded (sorting and charts
    /// see the loaded ones).
    partial: bool,
    /// Row order shown (sorted view); `None` = as the query returned them.
    order: Option<UInt32Array>,
    sort: Option<(usize, bool)>,
    /// Text a shown row contains somewhere.
    filter: String,
    /// The rows shown when filtered, in order.
    filtered: Option<Vec<usize>>,
    chart: ChartKind,
    x: usize,
    y: usize,
    /// Column widths, the row numbers first: as the user left them, or
    /// fitted to the header and the first rows.
    widths: std::cell::RefCell<Vec<f32>>,
    /// The widths are the user's (dragged, or kept from an earlier session).
    widths_set: std::cell::Cell<bool>,
    /// The dataset name typed in the Save menu.
    dataset_name: String,
    /// Rows picked by clicking their numbers (indices into the rows loaded).
    picked: std::collections::BTreeSet<usize>,
    /// The shown row a Shift+click extends the pick from.
    pick_anchor: Option<usize>,
    /// The stored view was applied (it is, once, when first shown).
    view_applied: bool,
    /// Charts, filter, copy and save above the rows (not in a preview).
    toolbar: bool,
}

impl ResultTable {
    /// Wraps a query result.
    pub fn new(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Self, String> {
        let batch = arrow::compute::concat_batches(schema, batches).map_err(|e| e.to_string())?;
        let numeric: Vec<usize> = (0..batch.num_columns())
            .filter(|i| batch.schema().field(*i).data_type().is_numeric())
            .collect();
        let y = numeric.last().copied().unwrap_or(0);
        let x = (0..batch.num_columns()).find(|i| *i != y).unwrap_or(0);
        Ok(Self {
            batch,
            last_drawn: std::cell::Cell::new(0),
            partial: false,
            order: None,
            sort: None,
            filter: String::new(),
            filtered: None,
            chart: ChartKind::Table,
            x,
            y,
            widths: std::cell::RefCell::new(Vec::new()),
            widths_set: std::cell::Cell::new(false),
            dataset_name: String::new(),
            picked: Default::default(),
            pick_anchor: None,
            view_applied: false,
            toolbar: true,
        })
    }

    /// The rows alone, without charts, filter, copy or save (a preview).
    pub fn without_toolbar(mut self) -> Self {
        self.toolbar = false;
        self
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Says whether more rows of the result exist than are loaded.
    pub fn set_partial(&mut self, partial: bool) {
        self.partial = partial;
    }

    /// The rows shown (cheap: Arrow arrays are shared).
    pub fn batch(&self) -> RecordBatch {
        self.batch.clone()
    }

    /// Shows `rows` instead: the rows so far with a further page of the
    /// result after them. A sorted view is sorted again.
    pub fn replace_rows(&mut self, rows: RecordBatch) {
        self.batch = rows;
        self.picked.retain(|&r| r < self.batch.num_rows());
        if let Some((column, descending)) = self.sort {
            self.sort_by(column, descending);
        }
        self.refilter();
    }

    /// Whether the rows drawn last are within a page's reach of the end, so
    /// that the next page should be fetched now.
    pub fn near_end(&self) -> bool {
        self.chart == ChartKind::Table
            && self.filtered.is_none()
            && self.last_drawn.get() + NEAR_END_ROWS >= self.rows()
    }

    /// How the table is shown, to keep with the notebook.
    pub fn view(&self) -> TableView {
        let name = |i: usize| {
            let schema = self.batch.schema();
            (i < schema.fields().len()).then(|| schema.field(i).name().clone())
        };
        let charted = self.chart != ChartKind::Table;
        TableView {
            chart: self.chart.name().to_string(),
            x: name(self.x).filter(|_| charted),
            y: name(self.y).filter(|_| charted),
            widths: if self.widths_set.get() {
                self.widths.borrow().iter().map(|w| w.round()).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Shows the table as `view` said, unless it already was: the chart
    /// and the columns it names (those still in the result), and the widths
    /// when the result still has as many columns.
    pub fn apply_view(&mut self, view: Option<&TableView>) {
        if std::mem::replace(&mut self.view_applied, true) {
            return;
        }
        let Some(view) = view else { return };
        let schema = self.batch.schema();
        let find = |name: &Option<String>| {
            name.as_ref()
                .and_then(|n| schema.fields().iter().position(|f| f.name() == n))
        };
        if let Some(kind) = ChartKind::from_name(&view.chart) {
            self.chart = kind;
        }
        if let Some(x) = find(&view.x) {
            self.x = x;
        }
        if let Some(y) = find(&view.y) {
            self.y = y;
        }
        if view.widths.len() == schema.fields().len() + 1 {
            *self.widths.borrow_mut() = view.widths.clone();
            self.widths_set.set(true);
        }
    }

    /// Rows shown: all, or those the filter keeps.
    fn shown_rows(&self) -> usize {
        self.filtered.as_ref().map_or(self.rows(), Vec::len)
    }

    fn row_index(&self, shown: usize) -> usize {
        if let Some(rows) = &self.filtered {
            return rows[shown];
        }
        match &self.order {
            Some(o) => o.value(shown) as usize,
            None => shown,
        }
    }

    /// Every shown row, in order.
    fn shown_indices(&self) -> Vec<usize> {
        (0..self.shown_rows()).map(|i| self.row_index(i)).collect()
    }

    /// Finds the rows the filter keeps again (after a new filter, sort or page).
    fn refilter(&mut self) {
        self.filtered = None;
        if self.filter.trim().is_empty() {
            return;
        }
        let text = TableText::new(&self.batch);
        let order = (0..self.rows()).map(|i| self.row_index(i));
        self.filtered = Some(text.matching(order, &self.filter));
    }

    /// Sorts by `column`, ascending first, then the other way on each click.
    fn toggle_sort(&mut self, column: usize) {
        let descending = matches!(self.sort, Some((c, false)) if c == column);
        self.sort_by(column, descending);
        self.refilter();
    }

    fn sort_by(&mut self, column: usize, descending: bool) {
        let sorted = lexsort_to_indices(
            &[SortColumn {
                values: self.batch.column(column).clone(),
                options: Some(SortOptions {
                    descending,
                    nulls_first: false,
                }),
            }],
            None,
        );
        if let Ok(indices) = sorted {
            self.order = Some(indices);
            self.sort = Some((column, descending));
        }
    }

    /// Draws the toolbar, then the table or the chart.
    pub fn ui(&mut self, ui: &mut egui::Ui, id: &str) -> TableAction {
        let mut action = TableAction::default();
        if !self.toolbar {
            let clicked = self.rows_ui(ui, id);
            self.clicked(clicked);
            return action;
        }
        ui.horizontal_wrapped(|ui| {
            for kind in ChartKind::ALL {
                let label = kind.label();
                let button = ui.selectable_value(&mut self.chart, kind, label);
                super::probe::mark(format!("chart {label}:{id}"), || {
                    super::probe::rect(button.rect)
                });
            }
            if self.chart != ChartKind::Table {
                let names: Vec<String> = self
                    .batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                if self.chart != ChartKind::Histogram {
                    column_picker(ui, (id, "x"), "x", &names, &mut self.x);
                }
                column_picker(ui, (id, "y"), "y", &names, &mut self.y);
            }
            ui.separator();
            self.filter_ui(ui, id);
            self.copy_menu(ui, id, &mut action);
            self.save_menu(ui, id, &mut action);
        });
        match self.chart {
            ChartKind::Table => {
                let clicked = self.rows_ui(ui, id);
                self.clicked(clicked);
            }
            kind => self.chart_ui(ui, id, kind),
        }
        action
    }

    /// Sorts by a clicked header; picks rows by their clicked numbers
    /// (Ctrl+click adds or removes one, Shift+click extends a range).
    fn clicked(&mut self, clicked: Clicked) {
        if let Some(c) = clicked.header {
            self.toggle_sort(c);
        }
        let Some((shown, modifiers)) = clicked.row_number else {
            return;
        };
        let row = self.row_index(shown);
        match self.pick_anchor {
            Some(anchor) if modifiers.shift => {
                let (from, to) = (anchor.min(shown), anchor.max(shown));
                if !modifiers.command {
                    self.picked.clear();
                }
                let range: Vec<usize> = (from..=to).map(|i| self.row_index(i)).collect();
                self.picked.extend(range);
            }
            _ if modifiers.command => {
                if !self.picked.remove(&row) {
                    self.picked.insert(row);
                }
                self.pick_anchor = Some(shown);
            }
            _ => {
                let only = self.picked.len() == 1 && self.picked.contains(&row);
                self.picked.clear();
                if !only {
                    self.picked.insert(row);
                }
                self.pick_anchor = Some(shown);
            }
        }
    }

    fn filter_ui(&mut self, ui: &mut egui::Ui, id: &str) {
        let edit = egui::TextEdit::singleline(&mut self.filter)
            .id_salt((id, "filter"))
            .hint_text("🔍 filter rows")
            .desired_width(140.0);
        let response = ui.add(edit).on_hover_text(if self.partial {
            "Shows the loaded rows that contain this text in any column (WHERE filters them all)"
        } else {
            "Shows the rows that contain this text in any column"
        });
        super::probe::mark(format!("filter:{id}"), || super::probe::rect(response.rect));
        if response.changed() {
            self.refilter();
        }
        if let Some(rows) = &self.filtered {
            ui.weak(format!("{} of {} rows", rows.len(), self.rows()));
        }
    }

    fn copy_menu(&self, ui: &mut egui::Ui, id: &str, action: &mut TableAction) {
        let menu = ui.menu_button("Copy ⏷", |ui| {
            // The rows picked by their numbers, or every row shown.
            let chosen: Vec<usize> = if self.picked.is_empty() {
                self.shown_indices()
            } else {
                self.shown_indices()
                    .into_iter()
                    .filter(|r| self.picked.contains(r))
                    .collect()
            };
            let rows = chosen.len().min(MAX_COPIED_ROWS);
            let what = if !self.picked.is_empty() {
                "the picked rows"
            } else if self.filtered.is_some() {
                "the filtered rows"
            } else {
                "the table"
            };
            for (label, markdown) in [("as TSV (spreadsheets)", false), ("as Markdown", true)] {
                let button = ui.button(format!("Copy {what} {label}"));
                super::probe::mark(
                    format!("copy {}:{id}", label.split(' ').nth(1).unwrap_or("")),
                    || super::probe::rect(button.rect),
                );
                if button.clicked() {
                    let shown: Vec<usize> = chosen.iter().copied().take(rows).collect();
                    let text = TableText::new(&self.batch);
                    let copied = if markdown {
                        text.markdown(&shown)
                    } else {
                        text.tsv(&shown)
                    };
                    ui.ctx().copy_text(copied);
                    let format = if markdown { "Markdown" } else { "TSV" };
                    let noun = if rows == 1 { "row" } else { "rows" };
                    let mut said = format!("copied {rows} {noun} as {format}");
                    if rows < chosen.len() {
                        said.push_str(&format!(
                            " (the first {MAX_COPIED_ROWS}; save the result for all)"
                        ));
                    }
                    action.said = Some(said);
                    ui.close();
                }
            }
        });
        super::probe::mark(format!("copy:{id}"), || {
            super::probe::rect(menu.response.rect)
        });
    }

    fn save_menu(&mut self, ui: &mut egui::Ui, id: &str, action: &mut TableAction) {
        // A click into the name field must not close the menu.
        let stays_open = egui::containers::menu::MenuConfig::new()
            .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside);
        let (button, _) = egui::containers::menu::MenuButton::new("Save ⏷")
            .config(stays_open)
            .ui(ui, |ui| {
                let whole = if self.partial {
                    "the whole result (runs the query again)"
                } else {
                    "the whole result"
                };
                ui.weak(format!("Saves {whole}, unfiltered"));
                for format in [ResultFormat::Csv, ResultFormat::Parquet] {
                    let label = format!("As {}…", format.extension().to_uppercase());
                    let button = ui.button(&label);
                    super::probe::mark(format!("save {}:{id}", format.extension()), || {
                        super::probe::rect(button.rect)
                    });
                    if button.clicked() {
                        action.save_file = Some(format);
                        ui.close();
                    }
                }
                ui.separator();
                ui.label("As a new dataset in the lake:");
                ui.horizontal(|ui| {
                    let field = ui.add(
                        egui::TextEdit::singleline(&mut self.dataset_name)
                            .id_salt((id, "dataset name"))
                            .hint_text("dataset name")
                            .desired_width(150.0),
                    );
                    super::probe::mark(format!("dataset name:{id}"), || {
                        super::probe::rect(field.rect)
                    });
                    let name = self.dataset_name.trim().to_string();
                    let problem = lakebook_core::lake::names::check_dataset_name(&name).err();
                    let button = ui.add_enabled(
                        !name.is_empty() && problem.is_none(),
                        egui::Button::new("Save"),
                    );
                    let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if (button.clicked() || enter) && !name.is_empty() && problem.is_none() {
                        action.save_dataset = Some(name.clone());
                        ui.close();
                    }
                    if let (Some(problem), false) = (problem, name.is_empty()) {
                        button.on_disabled_hover_text(problem.to_string());
                    }
                });
            });
        super::probe::mark(format!("save:{id}"), || super::probe::rect(button.rect));
    }

    /// Widths fitted to each column's header and first rows, the row numbers first.
    fn fitted_widths(&self, ui: &egui::Ui, text: &TableText<'_>) -> Vec<f32> {
        let measure = |s: &str, font: egui::FontId| {
            ui.ctx().fonts_mut(|f| {
                f.layout_no_wrap(s.to_string(), font, egui::Color32::WHITE)
                    .size()
                    .x
            })
        };
        let mono = egui::TextStyle::Monospace.resolve(ui.style());
        let body = egui::TextStyle::Body.resolve(ui.style());
        let pad = 2.0 * ui.spacing().item_spacing.x + 6.0;
        let mut widths = vec![measure(&self.rows().to_string(), mono.clone()) + pad];
        let sample = self.rows().min(50);
        for (c, field) in self.batch.schema().fields().iter().enumerate() {
            // Room for the sort arrow, so a sorted header is never cut.
            let header = measure(&format!("{} ⏷", field.name()), body.clone());
            let widest = (0..sample)
                .map(|r| measure(&one_line(&text.value(r, c), CELL_CHARS).0, mono.clone()))
                .fold(0.0, f32::max);
            widths.push((header.max(widest) + pad).clamp(48.0, 420.0));
        }
        widths
    }

    /// Draws the rows; says which header or row number was clicked.
    fn rows_ui(&self, ui: &mut egui::Ui, id: &str) -> Clicked {
        let schema = self.batch.schema();
        let text = TableText::new(&self.batch);
        let numbers: Vec<bool> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().is_numeric())
            .collect();
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
        let mut clicked_header = None;
        let mut clicked_number = None;
        let mut copied = None;
        let rows = self.shown_rows();
        let height = (row_height * (rows as f32 + 1.5)).clamp(row_height * 3.0, 360.0);
        if self.widths.borrow().len() != schema.fields().len() + 1 {
            *self.widths.borrow_mut() = self.fitted_widths(ui, &text);
        }
        let widths = self.widths.borrow().clone();
        let weak = ui.visuals().weak_text_color();
        // A wide result scrolls sideways inside its cell; it never widens
        // the notebook (which would push every cell's buttons off-screen).
        let scroll = egui::ScrollArea::horizontal()
            .id_salt((id, "sideways"))
            .auto_shrink([false, true]);
        scroll.show(ui, |ui| {
            let mut table = TableBuilder::new(ui)
                .id_salt((id, "rows"))
                .striped(true)
                .resizable(true)
                .min_scrolled_height(height)
                .max_scroll_height(height);
            for w in &widths {
                table = table.column(Column::initial(*w).at_least(32.0).clip(true));
            }
            table
                .header(row_height + 2.0, |mut header| {
                    header.col(|ui| {
                        ui.label(egui::RichText::new("#").color(weak))
                            .on_hover_text("row number as the query returned it");
                    });
                    for (i, field) in schema.fields().iter().enumerate() {
                        header.col(|ui| {
                            let arrow = match self.sort {
                                Some((c, false)) if c == i => " ⏶",
                                Some((c, true)) if c == i => " ⏷",
                                _ => "",
                            };
                            let button = egui::Button::new(
                                egui::RichText::new(format!("{}{arrow}", field.name())).strong(),
                            )
                            .frame(false);
                            if ui
                                .add(button)
                                .on_hover_text(if self.partial {
                                    format!(
                                        "{}: {}: click to sort the rows loaded so far (ORDER BY sorts them all)",
                                        field.name(),
                                        field.data_type()
                                    )
                                } else {
                                    format!("{}: {}: click to sort", field.name(), field.data_type())
                                })
                                .clicked()
                            {
                                clicked_header = Some(i);
                            }
                        });
                    }
                })
                .body(|body| {
                    let now = body.widths().to_vec();
                    if now.len() == widths.len() && now != widths {
                        // Widths change only when a column edge is dragged.
                        let moved = now.iter().zip(&widths).any(|(a, b)| (a - b).abs() >= 0.5);
                        self.widths_set.set(self.widths_set.get() || moved);
                        *self.widths.borrow_mut() = now;
                    }
                    body.rows(row_height, rows, |mut row| {
                        self.last_drawn.set(row.index());
                        let shown = row.index();
                        let r = self.row_index(shown);
                        row.set_selected(self.picked.contains(&r));
                        row.col(|ui| {
                            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                                let number = egui::Label::new(
                                    egui::RichText::new((r + 1).to_string())
                                        .monospace()
                                        .color(weak),
                                )
                                .sense(egui::Sense::click());
                                let number = ui.add(number).on_hover_text(
                                    "click to pick the row (Ctrl+click: one more, Shift+click: a range); Copy copies the picked rows",
                                );
                                super::probe::mark(format!("row:{id}:{shown}"), || {
                                    super::probe::rect(number.rect)
                                });
                                if number.clicked() {
                                    clicked_number = Some((shown, ui.input(|i| i.modifiers)));
                                }
                            });
                        });
                        for (c, number) in numbers.iter().enumerate() {
                            row.col(|ui| {
                                let null = text.is_null(r, c);
                                let value = text.value(r, c);
                                let (shown, changed) = one_line(&value, CELL_CHARS);
                                let rich = if null {
                                    egui::RichText::new("null").monospace().italics().color(weak)
                                } else {
                                    egui::RichText::new(&shown).monospace()
                                };
                                let label = egui::Label::new(rich)
                                    .wrap_mode(egui::TextWrapMode::Truncate)
                                    .sense(egui::Sense::click());
                                let layout = if *number {
                                    egui::Layout::right_to_left(egui::Align::Center)
                                } else {
                                    egui::Layout::left_to_right(egui::Align::Center)
                                };
                                let response = ui.with_layout(layout, |ui| ui.add(label)).inner;
                                let response = if changed {
                                    let whole = cut(&value, TOOLTIP_CHARS);
                                    response.on_hover_text(format!("{whole}\n\n(click to copy)"))
                                } else {
                                    response.on_hover_text("click to copy")
                                };
                                if response.clicked() && !null {
                                    copied = Some(value);
                                }
                            });
                        }
                    });
                });
        });
        if let Some(text) = copied {
            ui.ctx().copy_text(text);
        }
        super::probe::mark(format!("table:{id}"), || {
            serde_json::json!({
                "shown": rows,
                "rows": self.rows(),
                "widths": *self.widths.borrow(),
                "picked": self.picked.len(),
                "first": (0..schema.fields().len())
                    .map(|c| if rows > 0 { text.value(self.row_index(0), c) } else { String::new() })
                    .collect::<Vec<_>>(),
            })
        });
        Clicked {
            header: clicked_header,
            row_number: clicked_number,
        }
    }
}

/// What was clicked in the rows this frame.
struct Clicked {
    /// A column header (sort by it).
    header: Option<usize>,
    /// A row's number (pick it), as shown, with the keys held.
    row_number: Option<(usize, egui::Modifiers)>,
}
