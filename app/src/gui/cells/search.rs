//! Search cells: query, mode, dataset (or the whole lake), hits.

use lakebook_core::notebook::Cell;

use super::{CellEditor, EditorResponse, LakeNames, text_param};

/// Editor of `search` cells.
pub struct SearchEditor;

impl CellEditor for SearchEditor {
    fn kind(&self) -> &'static str {
        "search"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, names: &LakeNames<'_>) -> EditorResponse {
        let mut changed = false;
        let id = super::main_editor_id(&cell.id);
        ui.horizontal(|ui| {
            let query = text_param(cell, "query");
            changed |= ui
                .add(
                    egui::TextEdit::singleline(query)
                        .id(id)
                        .desired_width(ui.available_width() - 380.0)
                        .hint_text("what are you looking for?"),
                )
                .changed();
            let mode = text_param(cell, "mode");
            if mode.is_empty() {
                *mode = "hybrid".into();
            }
            let _ = egui::ComboBox::from_id_salt((cell_id(ui), "mode"))
                .selected_text(mode.clone())
                .width(90.0)
                .show_ui(ui, |ui| {
                    for m in ["hybrid", "semantic", "fulltext"] {
                        changed |= ui.selectable_value(mode, m.to_string(), m).changed();
                    }
                })
                .response
                .accessible_name("mode");
            let dataset = text_param(cell, "dataset");
            let shown = if dataset.is_empty() {
                "the whole lake".to_string()
            } else {
                dataset.clone()
            };
            let _ = egui::ComboBox::from_id_salt((cell_id(ui), "dataset"))
                .selected_text(shown)
                .width(140.0)
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(dataset, String::new(), "the whole lake")
                        .changed();
                    for (name, _) in names.datasets {
                        changed |= ui.selectable_value(dataset, name.clone(), name).changed();
                    }
                })
                .response
                .accessible_name("dataset");
            let mut k = cell.int("k").unwrap_or(10);
            ui.label("k");
            if ui
                .add(egui::DragValue::new(&mut k).range(1..=1000))
                .accessible_name("k")
                .changed()
            {
                cell.set("k", k);
                changed = true;
            }
        });
        ui.horizontal(|ui| {
            ui.label("where");
            changed |= ui
                .add(
                    egui::TextEdit::singleline(text_param(cell, "where"))
                        .desired_width(f32::INFINITY)
                        .hint_text("optional SQL filter, e.g. format = 'pdf'"),
                )
                .changed();
        });
        EditorResponse {
            changed,
            pick: None,
        }
    }
}

fn cell_id(ui: &egui::Ui) -> egui::Id {
    ui.scope_id()
}
