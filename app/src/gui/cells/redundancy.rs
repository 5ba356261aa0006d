//! The Redundancy cell's editor: the overlap threshold, exact counting and
//! the rebuild budget of the retirement plan.

use lakebook_core::notebook::Cell;

use super::{CellEditor, EditorResponse, LakeNames};

/// Edits a Redundancy cell.
pub struct RedundancyEditor;

/// A number parameter edited in place (`default` when missing), kept within `range`.
fn number(
    ui: &mut egui::Ui,
    cell: &mut Cell,
    key: &str,
    default: f64,
    range: std::ops::RangeInclusive<f64>,
    speed: f64,
) -> bool {
    let mut value = cell.float(key).unwrap_or(default);
    let changed = ui
        .add(egui::DragValue::new(&mut value).range(range).speed(speed))
        .accessible_name(key)
        .changed();
    if changed {
        cell.set(key, value);
    }
    changed
}

impl CellEditor for RedundancyEditor {
    fn kind(&self) -> &'static str {
        "redundancy"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, _names: &LakeNames<'_>) -> EditorResponse {
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            ui.label("tables that repeat or contain others; overlapping from");
            changed |= number(ui, cell, "threshold", 0.9, 0.01..=1.0, 0.005);
            ui.label("of their rows");
            let mut exact = cell.flag("exact");
            if ui
                .checkbox(&mut exact, "count every row")
                .on_hover_text("Exact shares and the multiset verdict (slower than the sample)")
                .changed()
            {
                cell.set("exact", exact);
                changed = true;
            }
            ui.label("· plan retirements rebuilt within");
            changed |= number(ui, cell, "max_rebuild_ms", 2000.0, 0.0..=3_600_000.0, 10.0);
            ui.label("ms");
        });
        EditorResponse {
            changed,
            pick: None,
        }
    }
}
