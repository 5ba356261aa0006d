//! The inspector (right panel): the selected column's profile, as core's
//! `profile_dataset` computes it (stored per dataset version, so a second
//! look is instant) and run as a job with progress and cancel.

use egui_plot::{Bar, BarChart, Plot};
use lakebook_core::profile::{ColumnProfile, profile_dataset};
use lakebook_core::{Job, Lake};

/// The profile of `column` of `dataset` (by the user's column name).
pub async fn profile_column(
    lake: &Lake,
    dataset: &str,
    column: &str,
    job: &Job,
) -> Result<ColumnProfile, String> {
    let profile = profile_dataset(lake, dataset, job)
        .await
        .map_err(|e| e.to_string())?;
    profile
        .columns
        .into_iter()
        .find(|c| c.name == column)
        .ok_or_else(|| format!("'{dataset}' has no column '{column}' to profile"))
}

/// Whether the profile's counts cover every value (else a sample of them).
fn exact(profile: &ColumnProfile) -> bool {
    profile.sampled == 0 || profile.sampled >= profile.rows.saturating_sub(profile.nulls)
}

/// A count measured in the profile's sample, scaled to the whole column.
fn scaled(profile: &ColumnProfile, n: u64) -> u64 {
    if exact(profile) {
        return n;
    }
    let present = profile.rows.saturating_sub(profile.nulls);
    (n as f64 * present as f64 / profile.sampled as f64).round() as u64
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
            if let (Some(min), Some(max)) = (&profile.min, &profile.max) {
                row("min", cut(min));
                row("max", cut(max));
            }
            if profile.quantiles.len() == 11 {
                row("median", format!("{}", profile.quantiles[5]));
            }
        });
    if let Some(histogram) = &profile.histogram {
        ui.add_space(6.0);
        ui.label(if exact(profile) {
            "histogram".to_string()
        } else {
            format!("histogram (from a sample of {} values)", profile.sampled)
        });
        let bars: Vec<Bar> = histogram
            .bins()
            .iter()
            .map(|(lo, hi, n)| {
                let n = scaled(profile, *n);
                Bar::new((lo + hi) / 2.0, n as f64).width((hi - lo).abs().max(1e-12))
            })
            .collect();
        Plot::new(("histogram", dataset, column))
            .height(140.0)
            .allow_scroll(false)
            .show(ui, |plot| plot.bar_chart(BarChart::new("rows", bars)));
    }
    if !profile.top.is_empty() {
        ui.add_space(6.0);
        ui.label(if exact(profile) {
            "top values".to_string()
        } else {
            format!(
                "top values (≈, from a sample of {} values)",
                profile.sampled
            )
        });
        let most = profile.top.first().map_or(1, |(_, n)| (*n).max(1));
        egui::Grid::new("top").num_columns(2).show(ui, |ui| {
            for (value, n) in &profile.top {
                ui.label(cut(value)).on_hover_text(value);
                let shown = scaled(profile, *n);
                ui.add(
                    egui::ProgressBar::new(*n as f32 / most as f32)
                        .text(if exact(profile) {
                            shown.to_string()
                        } else {
                            format!("≈{shown}")
                        })
                        .desired_width(90.0),
                );
                ui.end_row();
            }
        });
    }
}

/// A value on one line, cut to 32 characters for the panel (the whole one
/// on hover).
fn cut(value: &str) -> String {
    let line: String = value
        .chars()
        .map(|c| if c.is_control() { '¶' } else { c })
        .collect();
    if line.chars().count() <= 32 {
        line
    } else {
        format!("{}…", line.chars().take(31).collect::<String>())
    }
}
