//! Markdown cells: edited as text, shown rendered.

use lakebook_core::notebook::Cell;

use super::{CellEditor, EditorResponse, LakeNames, text_param};

/// Editor of `markdown` cells.
pub struct MarkdownEditor;

impl CellEditor for MarkdownEditor {
    fn kind(&self) -> &'static str {
        "markdown"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, _: &LakeNames<'_>) -> EditorResponse {
        let id = cell.id.clone();
        let text = text_param(cell, "text");
        let changed = ui
            .add(
                egui::TextEdit::multiline(text)
                    .id(super::main_editor_id(&id))
                    .desired_rows(3)
                    .desired_width(f32::INFINITY)
                    .hint_text("Markdown: # heading, **bold**, - lists"),
            )
            .changed();
        EditorResponse {
            changed,
            pick: None,
        }
    }
}
