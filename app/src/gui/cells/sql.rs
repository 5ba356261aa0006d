//! SQL cells: an editor with highlighting, and Tab completion of table and column names.

use egui::text::{CCursor, CCursorRange, LayoutJob};
use egui::{Color32, FontId, Key, Modifiers, TextFormat};
use lakebook_core::notebook::Cell;

use super::{CellEditor, EditorResponse, LakeNames, text_param};

/// Editor of `sql` cells.
pub struct SqlEditor;

const KEYWORDS: &[&str] = &[
    "select",
    "from",
    "where",
    "group",
    "by",
    "order",
    "limit",
    "join",
    "left",
    "right",
    "inner",
    "outer",
    "full",
    "on",
    "as",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "case",
    "when",
    "then",
    "else",
    "end",
    "with",
    "union",
    "all",
    "distinct",
    "having",
    "desc",
    "asc",
    "like",
    "between",
    "explain",
    "create",
    "view",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "cast",
    "over",
    "partition",
    "true",
    "false",
    "offset",
    "exists",
    "using",
];

/// Colours SQL: keywords, strings, numbers, comments.
pub fn highlight(text: &str, dark: bool) -> LayoutJob {
    let font = FontId::monospace(13.0);
    let (plain, keyword, string, number, comment) = if dark {
        (
            Color32::from_gray(220),
            Color32::from_rgb(120, 170, 255),
            Color32::from_rgb(220, 170, 110),
            Color32::from_rgb(150, 210, 150),
            Color32::from_gray(130),
        )
    } else {
        (
            Color32::from_gray(30),
            Color32::from_rgb(20, 70, 190),
            Color32::from_rgb(160, 80, 0),
            Color32::from_rgb(20, 120, 40),
            Color32::from_gray(120),
        )
    };
    let mut job = LayoutJob::default();
    let mut push = |piece: &str, color: Color32| {
        job.append(piece, 0.0, TextFormat::simple(font.clone(), color));
    };
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let (len, color) = if rest.starts_with("--") {
            (rest.find('\n').unwrap_or(rest.len()), comment)
        } else if c == '\'' {
            let end = rest[1..].find('\'').map_or(rest.len(), |i| i + 2);
            (end, string)
        } else if c.is_ascii_digit() {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
                .unwrap_or(rest.len());
            (end, number)
        } else if c.is_alphanumeric() || c == '_' {
            let end = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let is_keyword = KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word));
            (end, if is_keyword { keyword } else { plain })
        } else {
            (c.len_utf8(), plain)
        };
        push(&rest[..len], color);
        rest = &rest[len..];
    }
    job
}

/// The identifier being typed just before char offset `cursor`: (start byte, text).
fn word_before(text: &str, cursor_chars: usize) -> (usize, &str) {
    let end = text
        .char_indices()
        .nth(cursor_chars)
        .map_or(text.len(), |(i, _)| i);
    let start = text[..end]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(end, |(i, _)| i);
    (start, &text[start..end])
}

/// Table and column names that start with `prefix` (case-insensitive).
pub fn completions(prefix: &str, names: &LakeNames<'_>) -> Vec<String> {
    if prefix.is_empty() {
        return Vec::new();
    }
    let lower = prefix.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    for (table, columns) in names.datasets {
        for candidate in std::iter::once(table).chain(columns) {
            if candidate.to_lowercase().starts_with(&lower)
                && candidate != prefix
                && !out.contains(candidate)
            {
                out.push(candidate.clone());
            }
        }
    }
    out.sort();
    out.truncate(8);
    out
}

impl CellEditor for SqlEditor {
    fn kind(&self) -> &'static str {
        "sql"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, names: &LakeNames<'_>) -> EditorResponse {
        let dark = ui.visuals().dark_mode;
        let id = super::main_editor_id(&cell.id);
        let sql = text_param(cell, "sql");
        // Tab completes the name being typed, when there is a suggestion.
        let state = egui::TextEdit::load_state(ui.ctx(), id);
        let cursor = state
            .as_ref()
            .and_then(|s| s.cursor.char_range())
            .map(|r| r.primary.index.0);
        let suggestions = match (ui.memory(|m| m.has_focus(id)), cursor) {
            (true, Some(c)) => completions(word_before(sql, c).1, names),
            _ => Vec::new(),
        };
        let mut changed = false;
        let mut accept: Option<String> = None;
        if !suggestions.is_empty() && ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Tab)) {
            accept = suggestions.first().cloned();
        }
        let mut layouter = |ui: &egui::Ui, text: &dyn egui::TextBuffer, wrap: f32| {
            let mut job = highlight(text.as_str(), dark);
            job.wrap.max_width = wrap;
            ui.fonts_mut(|f| f.layout_job(job))
        };
        let output = egui::TextEdit::multiline(sql)
            .id(id)
            .code_editor()
            .desired_rows(3)
            .desired_width(f32::INFINITY)
            .hint_text("SELECT ... FROM ...   (Tab completes names)")
            .layouter(&mut layouter)
            .show(ui);
        changed |= output.response.changed();
        if !suggestions.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.weak("Tab:");
                for s in &suggestions {
                    if ui.small_button(s).clicked() {
                        accept = Some(s.clone());
                    }
                }
            });
        }
        if let (Some(word), Some(c)) = (accept, cursor) {
            let (start, typed) = word_before(sql, c);
            let typed_len = typed.len();
            sql.replace_range(start..start + typed_len, &word);
            let new_cursor = sql[..start + word.len()].chars().count();
            let mut state = output.state;
            state
                .cursor
                .set_char_range(Some(CCursorRange::one(CCursor::new(new_cursor))));
            state.store(ui.ctx(), id);
            ui.memory_mut(|m| m.request_focus(id));
            changed = true;
        }
        EditorResponse {
            changed,
            pick: None,
        }
    }
}
