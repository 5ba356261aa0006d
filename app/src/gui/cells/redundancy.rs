//! The Redundancy cell's editor: the overlap threshold, exact counting and
//! the rebuild budget of the retirement plan.

use lakebook_core::notebook::Cell;

use super::{CellEditor, EditorResponse, LakeNames, number_param};

/// Edits a Redundancy cell.
pub struct RedundancyEditor;

impl CellEditor for RedundancyEditor {
    fn kind(&self) -> &'static str {
        "redundancy"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, _names: &LakeNames<'_>) -> EditorResponse {
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            ui.label("tables that repeat or contain others; overlapping from");
            changed |= number_param(ui, cell, "threshold", 0.9, 0.01..=1.0, 0.005).changed();
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
            changed |=
                number_param(ui, cell, "max_rebuild_ms", 2000.0, 0.0..=3_600_000.0, 10.0).changed();
            ui.label("ms");
        });
        EditorResponse {
            changed,
            pick: None,
        }
    }
}
