//! A result table's charts: bars, a line, a histogram or points, drawn
//! with egui_plot from the rows loaded.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints, Points};

use super::ResultTable;

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

impl ChartKind {
    /// Every kind, in the toolbar's order.
    pub const ALL: [ChartKind; 5] = [
        ChartKind::Table,
        ChartKind::Bar,
        ChartKind::Line,
        ChartKind::Histogram,
        ChartKind::Scatter,
    ];

    /// The toolbar's word for it.
    pub fn label(self) -> &'static str {
        match self {
            ChartKind::Table => "Table",
            ChartKind::Bar => "Bar",
            ChartKind::Line => "Line",
            ChartKind::Histogram => "Histogram",
            ChartKind::Scatter => "Scatter",
        }
    }

    /// Its name in a notebook file.
    pub fn name(self) -> &'static str {
        match self {
            ChartKind::Table => "table",
            ChartKind::Bar => "bar",
            ChartKind::Line => "line",
            ChartKind::Histogram => "histogram",
            ChartKind::Scatter => "scatter",
        }
    }

    /// The kind a notebook file names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl ResultTable {
    pub(super) fn numbers(&self, column: usize) -> Option<Vec<f64>> {
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

    pub(super) fn chart_ui(&self, ui: &mut egui::Ui, id: &str, kind: ChartKind) {
        let top = ui.cursor().min;
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
        let shown = match kind {
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
                plot.show(ui, |p| p.bar_chart(BarChart::new("rows", bars)))
            }
            ChartKind::Line => {
                let points: Vec<[f64; 2]> = xs.iter().zip(&ys).map(|(x, y)| [*x, *y]).collect();
                plot.show(ui, |p| p.line(Line::new("y", PlotPoints::from(points))))
            }
            ChartKind::Scatter => {
                let points: Vec<[f64; 2]> = xs.iter().zip(&ys).map(|(x, y)| [*x, *y]).collect();
                plot.show(ui, |p| {
                    p.points(Points::new("y", PlotPoints::from(points)).radius(2.0))
                })
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
                plot.show(ui, |p| p.bar_chart(BarChart::new("count", bars)))
            }
        };
        let area = egui::Rect::from_min_max(top, ui.min_rect().max);
        // The data range shown: a test sees whether the wheel moved the chart.
        let bounds = shown.transform.bounds();
        crate::gui::probe::mark(format!("chart:{id}"), || {
            serde_json::json!({
                "rect": crate::gui::probe::rect(area),
                "bounds": [bounds.min(), bounds.max()],
            })
        });
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

pub(super) fn column_picker(
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
