//! The editors of each cell kind. Adding a kind to the GUI is one module
//! implementing [`CellEditor`] plus one line in [`editors`].

mod graphs;
mod ingest;
mod markdown;
mod matching;
mod redundancy;
mod search;
mod sql;

use lakebook_core::notebook::Cell;

pub use ingest::add_paths as add_ingest_paths;

/// Names the editors can complete: every dataset with its columns.
pub struct LakeNames<'a> {
    /// (dataset, columns) pairs.
    pub datasets: &'a [(String, Vec<String>)],
}

/// What an editor asks the app to do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EditorResponse {
    /// The cell's parameters changed (the notebook is dirty).
    pub changed: bool,
    /// Open a native dialog to add files (`false`) or a folder (`true`) to an ingest cell.
    pub pick: Option<bool>,
}

/// The editing UI of one cell kind.
pub trait CellEditor {
    /// The cell kind it edits.
    fn kind(&self) -> &'static str;
    /// Draws the editor for `cell`; `id` is unique per cell.
    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, names: &LakeNames<'_>) -> EditorResponse;
}

/// The id of a cell's main text field (the query of a SQL or search cell,
/// a Markdown cell's text, the raw parameters), so the window can move the
/// keyboard focus to it when it selects the cell.
pub fn main_editor_id(cell_id: &str) -> egui::Id {
    egui::Id::NULL.with(("cell-main-editor", cell_id))
}

/// Every editor, by kind.
pub fn editors() -> Vec<Box<dyn CellEditor>> {
    vec![
        Box::new(markdown::MarkdownEditor),
        Box::new(sql::SqlEditor),
        Box::new(search::SearchEditor),
        Box::new(ingest::IngestEditor),
        Box::new(matching::MatchEditor),
        Box::new(graphs::GraphEditor),
        Box::new(graphs::CommunitiesEditor),
        Box::new(graphs::ClusterEditor),
        Box::new(redundancy::RedundancyEditor),
    ]
}

/// Edits a cell of a kind without an editor: its parameters as TOML.
pub fn raw_editor_ui(ui: &mut egui::Ui, cell: &mut Cell) -> EditorResponse {
    let mut text = toml::to_string_pretty(&cell.params).unwrap_or_default();
    ui.label(format!(
        "'{}' cells have no editor here; their parameters:",
        cell.kind
    ));
    let changed = ui
        .add(
            egui::TextEdit::multiline(&mut text)
                .id(main_editor_id(&cell.id))
                .code_editor()
                .desired_rows(4),
        )
        .accessible_name("parameters")
        .changed();
    if changed && let Ok(params) = toml::from_str::<toml::Table>(&text) {
        cell.params = params;
        return EditorResponse {
            changed: true,
            pick: None,
        };
    }
    EditorResponse::default()
}

/// A number parameter dragged or typed in place (`default` when missing,
/// kept within `range`); set on the cell when it changes.
pub fn number_param(
    ui: &mut egui::Ui,
    cell: &mut Cell,
    key: &str,
    default: f64,
    range: std::ops::RangeInclusive<f64>,
    speed: f64,
) -> egui::Response {
    let mut value = cell.float(key).unwrap_or(default);
    let response = ui
        .add(egui::DragValue::new(&mut value).range(range).speed(speed))
        .accessible_name(key);
    if response.changed() {
        cell.set(key, value);
    }
    response
}

/// A text parameter as an editable string (created empty if missing, and
/// turned into text if it was something else).
pub fn text_param<'a>(cell: &'a mut Cell, key: &str) -> &'a mut String {
    let value = cell
        .params
        .entry(key.to_string())
        .or_insert_with(|| toml::Value::String(String::new()));
    if !value.is_str() {
        *value = toml::Value::String(value.to_string());
    }
    match value {
        toml::Value::String(s) => s,
        _ => unreachable!("the value was just made a string"),
    }
}
