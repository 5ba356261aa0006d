//! Match cells: a table, and another table or the whole lake.

use lakebook_core::matching::Matcher;
use lakebook_core::notebook::Cell;

use super::{CellEditor, EditorResponse, LakeNames, text_param};

/// Editor of `match` cells.
pub struct MatchEditor;

impl CellEditor for MatchEditor {
    fn kind(&self) -> &'static str {
        "match"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, names: &LakeNames<'_>) -> EditorResponse {
        let mut changed = false;
        let salt = ui.scope_id();
        ui.horizontal(|ui| {
            ui.label("match");
            let source = text_param(cell, "source");
            let shown = if source.is_empty() {
                "choose a table".to_string()
            } else {
                source.clone()
            };
            let _ = egui::ComboBox::from_id_salt((salt, "source"))
                .selected_text(shown)
                .width(160.0)
                .show_ui(ui, |ui| {
                    for (name, _) in names.datasets {
                        changed |= ui.selectable_value(source, name.clone(), name).changed();
                    }
                })
                .response
                .accessible_name("source");
            ui.label("with");
            let target = text_param(cell, "target");
            let shown = if target.is_empty() {
                "the whole lake".to_string()
            } else {
                target.clone()
            };
            let _ = egui::ComboBox::from_id_salt((salt, "target"))
                .selected_text(shown)
                .width(160.0)
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(target, String::new(), "the whole lake")
                        .on_hover_text("List the tables that can be joined or unioned with it")
                        .changed();
                    for (name, _) in names.datasets {
                        changed |= ui.selectable_value(target, name.clone(), name).changed();
                    }
                })
                .response
                .accessible_name("target");
            ui.label("by");
            let matcher = text_param(cell, "matcher");
            if matcher.is_empty() {
                *matcher = Matcher::Combined.label().into();
            }
            let _ = egui::ComboBox::from_id_salt((salt, "matcher"))
                .selected_text(matcher.clone())
                .width(110.0)
                .show_ui(ui, |ui| {
                    for m in Matcher::ALL {
                        changed |= ui
                            .selectable_value(matcher, m.label().to_string(), m.label())
                            .changed();
                    }
                })
                .response
                .accessible_name("matcher");
        });
        if changed {
            // Decisions were about the previous pair of tables.
            cell.params.remove("accepted");
            cell.params.remove("rejected");
        }
        EditorResponse {
            changed,
            pick: None,
        }
    }
}
