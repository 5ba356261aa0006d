//! A result table that scrolls smoothly through millions of rows: the rows
//! stay in Arrow, and only the visible ones become widgets. Sort by clicking a
//! header, copy a cell by clicking it, and chart the result.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{SortColumn, SortOptions, lexsort_to_indices};
use arrow::datatypes::{DataType, Float64Type, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use egui_extras::{Column, TableBuilder};
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints, Points};

/// Rows from the end of those loaded at which the next page is fetched.
const NEAR_END_ROWS: usize = 20_000;

/// Most bars a bar chart draws.
const MAX_BARS: usize = 500;

/// What a chart of `rows` loaded rows leaves out, if anything: the rows not
/// loaded yet (`partial`), and for bars those past [`MAX_BARS`].
pub fn chart_caveat(kind: ChartKind, rows: usize, partial: bool) -> Option<String> {
    let mut caveats = Vec::new();
    if partial {
        caveats.push(format!(
            "Charting the {rows} rows loaded so far; the result has more (scroll the table to load them, or aggregate in SQL)."
        ));
    }
    if kind == ChartKind::Bar && rows > MAX_BARS {
        caveats.push(format!("Bars for the first {MAX_BARS} rows."));
    }
    (!caveats.is_empty()).then(|| caveats.join(" "))
}

/// How the result is charted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// No chart: the table.
    Table,
    /// Bars: y per x (the first [`MAX_BARS`] rows).
    Bar,
    /// A line through (x, y).
    Line,
    /// A histogram of y.
    Histogram,
    /// Points at (x, y).
    Scatter,
}

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
    chart: ChartKind,
    x: usize,
    y: usize,
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
            chart: ChartKind::Table,
            x,
            y,
        })
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
        if let Some((column, descending)) = self.sort {
            self.sort_by(column, descending);
        }
    }

    /// Whether the rows drawn last are within a page's reach of the end, so
    /// that the next page should be fetched now.
    pub fn near_end(&self) -> bool {
        self.chart == ChartKind::Table && self.last_drawn.get() + NEAR_END_ROWS >= self.rows()
    }

    fn row_index(&self, shown: usize) -> usize {
        match &self.order {
            Some(o) => o.value(shown) as usize,
            None => shown,
        }
    }

    /// Sorts by `column`, ascending first, then the other way on each click.
    fn toggle_sort(&mut self, column: usize) {
        let descending = matches!(self.sort, Some((c, false)) if c == column);
        self.sort_by(column, descending);
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
    pub fn ui(&mut self, ui: &mut egui::Ui, id: &str) {
        ui.horizontal(|ui| {
            for (kind, label) in [
                (ChartKind::Table, "Table"),
                (ChartKind::Bar, "Bar"),
                (ChartKind::Line, "Line"),
                (ChartKind::Histogram, "Histogram"),
                (ChartKind::Scatter, "Scatter"),
            ] {
                ui.selectable_value(&mut self.chart, kind, label);
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
        });
        match self.chart {
            ChartKind::Table => self.table_ui(ui, id),
            kind => self.chart_ui(ui, id, kind),
        }
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, id: &str) {
        if let Some(c) = self.rows_ui(ui, id) {
            self.toggle_sort(c);
        }
    }

    /// Draws the rows; returns the column whose header was clicked.
    fn rows_ui(&self, ui: &mut egui::Ui, id: &str) -> Option<usize> {
        let schema = self.batch.schema();
        let options = FormatOptions::default().with_null("null");
        let formatters: Vec<Option<ArrayFormatter<'_>>> = self
            .batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok())
            .collect();
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
        let mut clicked_header = None;
        let mut copied = None;
        let height = (row_height * (self.rows() as f32 + 1.5)).clamp(row_height * 3.0, 360.0);
        let rows = self.rows();
        // A wide result scrolls sideways inside its cell; it never widens
        // the notebook (which would push every cell's buttons off-screen).
        let scroll = egui::ScrollArea::horizontal()
            .id_salt((id, "sideways"))
            .auto_shrink([false, true]);
        scroll.show(ui, |ui| {
            TableBuilder::new(ui)
                .striped(true)
                .resizable(true)
                .min_scrolled_height(height)
                .max_scroll_height(height)
                .columns(
                    Column::auto().at_least(60.0).at_most(480.0).clip(true),
                    schema.fields().len(),
                )
                .header(row_height + 2.0, |mut header| {
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
                                        "{}: click to sort the rows loaded so far (ORDER BY sorts them all)",
                                        field.data_type()
                                    )
                                } else {
                                    format!("{}: click to sort", field.data_type())
                                })
                                .clicked()
                            {
                                clicked_header = Some(i);
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_height, rows, |mut row| {
                        self.last_drawn.set(row.index());
                        let r = self.row_index(row.index());
                        for f in &formatters {
                            row.col(|ui| {
                                let text = f
                                    .as_ref()
                                    .map(|f| f.value(r).to_string())
                                    .unwrap_or_default();
                                let label =
                                    egui::Label::new(egui::RichText::new(&text).monospace())
                                        .wrap_mode(egui::TextWrapMode::Extend)
                                        .sense(egui::Sense::click());
                                if ui.add(label).on_hover_text("click to copy").clicked() {
                                    copied = Some(text);
                                }
                            });
                        }
                    });
                });
        });
        if let Some(text) = copied {
            ui.ctx().copy_text(text);
        }
        clicked_header
    }

    fn numbers(&self, column: usize) -> Option<Vec<f64>> {
        let array: &ArrayRef = self.batch.columns().get(column)?;
        let floats = arrow::compute::cast(array, &DataType::Float64).ok()?;
        let floats = floats.as_primitive::<Float64Type>();
        Some(
            (0..floats.len())
                .map(|i| {
                    if floats.is_null(i) {
                        f64::NAN
                    } else {
                        floats.value(i)
                    }
                })
                .collect(),
        )
    }

    fn chart_ui(&self, ui: &mut egui::Ui, id: &str, kind: ChartKind) {
        let Some(ys) = self.numbers(self.y) else {
            ui.label("pick a numeric column for y");
            return;
        };
        let xs = self
            .numbers(self.x)
            .filter(|v| v.iter().any(|x| x.is_finite()))
            .unwrap_or_else(|| (0..ys.len()).map(|i| i as f64).collect());
        if let Some(caveat) = chart_caveat(kind, self.rows(), self.partial) {
            ui.label(egui::RichText::new(caveat).weak());
        }
        // The wheel scrolls the notebook; Ctrl+wheel (or a pinch) zooms the chart.
        let plot = Plot::new((id, "chart")).height(260.0).allow_scroll(false);
        match kind {
            ChartKind::Bar => {
                let labels = self.batch.column(self.x).clone();
                let options = FormatOptions::default();
                let formatter = ArrayFormatter::try_new(labels.as_ref(), &options).ok();
                let names: Vec<String> = (0..ys.len().min(MAX_BARS))
                    .map(|i| {
                        formatter
                            .as_ref()
                            .map(|f| f.value(i).to_string())
                            .unwrap_or_default()
                    })
                    .collect();
                let bars: Vec<Bar> = ys
                    .iter()
                    .zip(&names)
                    .enumerate()
                    .map(|(i, (y, name))| Bar::new(i as f64, *y).name(name))
                    .collect();
                // The x axis names each bar by its category, as many as fit.
                let plot = plot
                    .x_grid_spacer(category_marks)
                    .x_axis_formatter(move |mark, _| category_label(&names, mark.value));
                plot.show(ui, |p| p.bar_chart(BarChart::new("rows", bars)));
            }
            ChartKind::Line => {
                let points: Vec<[f64; 2]> = xs.iter().zip(&ys).map(|(x, y)| [*x, *y]).collect();
                plot.show(ui, |p| p.line(Line::new("y", PlotPoints::from(points))));
            }
            ChartKind::Scatter => {
                let points: Vec<[f64; 2]> = xs.iter().zip(&ys).map(|(x, y)| [*x, *y]).collect();
                plot.show(ui, |p| {
                    p.points(Points::new("y", PlotPoints::from(points)).radius(2.0))
                });
            }
            ChartKind::Histogram | ChartKind::Table => {
                let finite: Vec<f64> = ys.into_iter().filter(|v| v.is_finite()).collect();
                let (lo, hi) = finite
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                        (a.min(*v), b.max(*v))
                    });
                let bins = 30usize;
                let width = ((hi - lo) / bins as f64).max(1e-12);
                let mut counts = vec![0u64; bins];
                for v in &finite {
                    let b = (((v - lo) / width) as usize).min(bins - 1);
                    counts[b] += 1;
                }
                let bars: Vec<Bar> = counts
                    .iter()
                    .enumerate()
                    .map(|(i, n)| Bar::new(lo + (i as f64 + 0.5) * width, *n as f64).width(width))
                    .collect();
                plot.show(ui, |p| p.bar_chart(BarChart::new("count", bars)));
            }
        }
    }
}

/// Room a category label needs on the x axis, in points.
const CATEGORY_LABEL_WIDTH: f64 = 90.0;
/// egui_plot's base step is the data width of this many points.
const PLOT_MIN_SPACING: f64 = 6.0;

/// Grid marks on whole bar positions, every bar when the labels fit and
/// every n-th when they would overlap.
fn category_marks(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let per_point = input.base_step_size / PLOT_MIN_SPACING;
    let step = (per_point * CATEGORY_LABEL_WIDTH).ceil().max(1.0);
    let (lo, hi) = input.bounds;
    let first = (lo.max(0.0) / step).ceil() * step;
    let mut marks = Vec::new();
    let mut value = first;
    while value <= hi && marks.len() < 1000 {
        marks.push(egui_plot::GridMark {
            value,
            step_size: step,
        });
        value += step;
    }
    marks
}

/// The name of the bar at `value` (empty between bars), cut to fit.
fn category_label(names: &[String], value: f64) -> String {
    let index = value.round();
    if (value - index).abs() > 1e-6 || index < 0.0 {
        return String::new();
    }
    let Some(name) = names.get(index as usize) else {
        return String::new();
    };
    const LONGEST: usize = 14;
    if name.chars().count() > LONGEST {
        let cut: String = name.chars().take(LONGEST - 1).collect();
        format!("{cut}…")
    } else {
        name.clone()
    }
}

fn column_picker(
    ui: &mut egui::Ui,
    id: (&str, &str),
    label: &str,
    names: &[String],
    value: &mut usize,
) {
    ui.label(label);
    let _ = egui::ComboBox::from_id_salt(id)
        .selected_text(names.get(*value).cloned().unwrap_or_default())
        .show_ui(ui, |ui| {
            for (i, n) in names.iter().enumerate() {
                ui.selectable_value(value, i, n);
            }
        })
        .response
        .accessible_name(format!("{label} column"));
}
