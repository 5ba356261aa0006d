//! Ingest cells: files and folders (native dialogs or drag and drop) into the lake.

use lakebook_core::notebook::Cell;

use super::{CellEditor, EditorResponse, LakeNames, text_param};

/// Editor of `ingest` cells.
pub struct IngestEditor;

impl CellEditor for IngestEditor {
    fn kind(&self) -> &'static str {
        "ingest"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, _: &LakeNames<'_>) -> EditorResponse {
        let mut response = EditorResponse::default();
        let paths: Vec<String> = cell
            .params
            .get("paths")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut remove = None;
        if paths.is_empty() {
            ui.weak("No files yet: add files or a folder, or drop files onto the window.");
        }
        for (i, p) in paths.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui.small_button("✖").on_hover_text("remove").clicked() {
                    remove = Some(i);
                }
                ui.monospace(p);
            });
        }
        if let Some(i) = remove {
            let mut kept = paths.clone();
            kept.remove(i);
            cell.set(
                "paths",
                toml::Value::Array(kept.into_iter().map(toml::Value::String).collect()),
            );
            response.changed = true;
        }
        ui.horizontal(|ui| {
            if ui.button("Add files…").clicked() {
                response.pick = Some(false);
            }
            if ui.button("Add folder…").clicked() {
                response.pick = Some(true);
            }
            ui.label("name");
            response.changed |= ui
                .add(
                    egui::TextEdit::singleline(text_param(cell, "name"))
                        .desired_width(140.0)
                        .hint_text("from the file"),
                )
                .changed();
            let mode = text_param(cell, "mode");
            if mode.is_empty() {
                *mode = "create".into();
            }
            let _ = egui::ComboBox::from_id_salt((ui.scope_id(), "mode"))
                .selected_text(mode.clone())
                .show_ui(ui, |ui| {
                    for m in ["create", "append", "overwrite"] {
                        response.changed |= ui.selectable_value(mode, m.to_string(), m).changed();
                    }
                })
                .response
                .accessible_name("mode");
        });
        response
    }
}

/// Adds paths to an ingest cell.
pub fn add_paths(cell: &mut Cell, new: &[std::path::PathBuf]) {
    let mut paths: Vec<toml::Value> = cell
        .params
        .get("paths")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    for p in new {
        let p = toml::Value::String(p.to_string_lossy().into_owned());
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    cell.set("paths", toml::Value::Array(paths));
}
