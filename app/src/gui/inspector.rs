//! The inspector (right panel): the selected dataset's or column's profile.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use egui_plot::{Bar, BarChart, Plot};
use lakebook_core::Lake;
use lakebook_core::sql::SqlEngine;

/// What the inspector shows about one column.
#[derive(Debug, Clone)]
pub struct ColumnProfile {
    /// Arrow type.
    pub data_type: String,
    /// Rows in the dataset.
    pub rows: u64,
    /// Null values.
    pub nulls: u64,
    /// Distinct values (HyperLogLog estimate).
    pub distinct: u64,
    /// Smallest value, as text.
    pub min: String,
    /// Largest value, as text.
    pub max: String,
    /// Most frequent values with their counts.
    pub top: Vec<(String, u64)>,
    /// Histogram of a numeric column: (bin start, bin end, count).
    pub histogram: Vec<(f64, f64, u64)>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn text_at(array: &dyn Array, row: usize) -> String {
    let options = FormatOptions::default().with_null("null");
    ArrayFormatter::try_new(array, &options)
        .map(|f| f.value(row).to_string())
        .unwrap_or_default()
}

/// Computes a column's profile with SQL over the lake.
pub async fn profile_column(
    lake: &Lake,
    dataset: &str,
    column: &str,
) -> Result<ColumnProfile, String> {
    let ds = lake
        .open_dataset(dataset, None)
        .await
        .map_err(|e| e.to_string())?;
    let schema =
        lakebook_core::lake::columns::user_schema(&arrow::datatypes::Schema::from(ds.schema()));
    let field = schema
        .field_with_name(column)
        .map_err(|_| format!("'{dataset}' has no column '{column}'"))?;
    let data_type = field.data_type().clone();
    let engine = SqlEngine::new(lake);
    let (t, c) = (quote(dataset), quote(column));
    let nested = data_type.is_nested();
    let stats_sql = if nested {
        format!("SELECT count(*) AS n, count({c}) AS present FROM {t}")
    } else {
        format!(
            "SELECT count(*) AS n, count({c}) AS present, approx_distinct({c}) AS d, min({c}) AS lo, max({c}) AS hi FROM {t}"
        )
    };
    let stats = engine.query(&stats_sql).await.map_err(|e| e.to_string())?;
    let batch =
        arrow::compute::concat_batches(&stats.schema, &stats.batches).map_err(|e| e.to_string())?;
    if batch.num_rows() == 0 {
        return Err("no statistics".to_string());
    }
    let int = |i: usize| -> u64 {
        let col = batch.column(i);
        arrow::compute::cast(col, &DataType::Int64)
            .ok()
            .map(|a| a.as_primitive::<Int64Type>().value(0).max(0) as u64)
            .unwrap_or(0)
    };
    let rows = int(0);
    let present = int(1);
    let mut profile = ColumnProfile {
        data_type: data_type.to_string(),
        rows,
        nulls: rows.saturating_sub(present),
        distinct: if nested { 0 } else { int(2) },
        min: if nested {
            String::new()
        } else {
            text_at(batch.column(3).as_ref(), 0)
        },
        max: if nested {
            String::new()
        } else {
            text_at(batch.column(4).as_ref(), 0)
        },
        top: Vec::new(),
        histogram: Vec::new(),
    };
    if nested {
        return Ok(profile);
    }
    let top_sql = format!(
        "SELECT CAST({c} AS VARCHAR) AS v, count(*) AS n FROM {t} WHERE {c} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT 10"
    );
    let top = engine.query(&top_sql).await.map_err(|e| e.to_string())?;
    for b in &top.batches {
        let values = b.column(0);
        let counts =
            arrow::compute::cast(b.column(1), &DataType::Int64).map_err(|e| e.to_string())?;
        let counts = counts.as_primitive::<Int64Type>();
        for r in 0..b.num_rows() {
            profile
                .top
                .push((text_at(values.as_ref(), r), counts.value(r).max(0) as u64));
        }
    }
    if data_type.is_numeric() && present > 0 {
        let bins = 20;
        let hist_sql = format!(
            "WITH r AS (SELECT CAST(min({c}) AS DOUBLE) AS lo, CAST(max({c}) AS DOUBLE) AS hi FROM {t}) \
             SELECT least(CAST(floor((CAST({c} AS DOUBLE) - r.lo) / greatest((r.hi - r.lo) / {bins}, 1e-300)) AS BIGINT), {last}) AS b, \
                    count(*) AS n, min(r.lo) AS lo, min(r.hi) AS hi \
             FROM {t}, r WHERE {c} IS NOT NULL GROUP BY 1 ORDER BY 1",
            last = bins - 1
        );
        let hist = engine.query(&hist_sql).await.map_err(|e| e.to_string())?;
        for b in &hist.batches {
            let bin =
                arrow::compute::cast(b.column(0), &DataType::Int64).map_err(|e| e.to_string())?;
            let n =
                arrow::compute::cast(b.column(1), &DataType::Int64).map_err(|e| e.to_string())?;
            let lo =
                arrow::compute::cast(b.column(2), &DataType::Float64).map_err(|e| e.to_string())?;
            let hi =
                arrow::compute::cast(b.column(3), &DataType::Float64).map_err(|e| e.to_string())?;
            let (bin, n) = (
                bin.as_primitive::<Int64Type>(),
                n.as_primitive::<Int64Type>(),
            );
            let (lo, hi) = (
                lo.as_primitive::<Float64Type>(),
                hi.as_primitive::<Float64Type>(),
            );
            for r in 0..b.num_rows() {
                let width = (hi.value(r) - lo.value(r)) / bins as f64;
                let start = lo.value(r) + bin.value(r) as f64 * width;
                profile
                    .histogram
                    .push((start, start + width, n.value(r).max(0) as u64));
            }
        }
    }
    Ok(profile)
}

/// Draws a profile.
pub fn profile_ui(ui: &mut egui::Ui, dataset: &str, column: &str, profile: &ColumnProfile) {
    ui.heading(format!("{dataset}.{column}"));
    egui::Grid::new("profile")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let mut row = |label: &str, value: String| {
                ui.label(label);
                ui.monospace(value);
                ui.end_row();
            };
            row("type", profile.data_type.clone());
            row("rows", profile.rows.to_string());
            let share = if profile.rows > 0 {
                100.0 * profile.nulls as f64 / profile.rows as f64
            } else {
                0.0
            };
            row("nulls", format!("{} ({share:.1}%)", profile.nulls));
            if profile.distinct > 0 {
                row("distinct ≈", profile.distinct.to_string());
            }
            if !profile.min.is_empty() {
                row("min", profile.min.clone());
                row("max", profile.max.clone());
            }
        });
    if !profile.histogram.is_empty() {
        ui.add_space(6.0);
        ui.label("histogram");
        let bars: Vec<Bar> = profile
            .histogram
            .iter()
            .map(|(lo, hi, n)| {
                Bar::new((lo + hi) / 2.0, *n as f64).width((hi - lo).abs().max(1e-12))
            })
            .collect();
        Plot::new(("histogram", dataset, column))
            .height(140.0)
            .allow_scroll(false)
            .show(ui, |plot| plot.bar_chart(BarChart::new("rows", bars)));
    }
    if !profile.top.is_empty() {
        ui.add_space(6.0);
        ui.label("top values");
        let most = profile.top.first().map_or(1, |(_, n)| (*n).max(1));
        egui::Grid::new("top").num_columns(2).show(ui, |ui| {
            for (value, n) in &profile.top {
                let shown: String = value.chars().take(32).collect();
                ui.label(shown).on_hover_text(value);
                ui.add(
                    egui::ProgressBar::new(*n as f32 / most as f32)
                        .text(n.to_string())
                        .desired_width(90.0),
                );
                ui.end_row();
            }
        });
    }
}
