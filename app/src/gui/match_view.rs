//! The output of a Match cell: ranked correspondences with score bars and
//! evidence, keep / drop each, a two-column diagram of the kept ones, and SQL
//! (a join or a union) from them; or the tables related to one table.

use lakebook_core::matching::related::Related;
use lakebook_core::matching::text::related_why;
use lakebook_core::matching::{ColumnMatch, MatchOutput, MatchReport, accepted_pairs, to_sql};
use lakebook_core::notebook::Cell;
use lakebook_core::notebook::kinds::matching::pair_list;

/// Pairs listed at most (the rest are weaker than every listed one).
const LISTED: usize = 200;

/// What the view asks the app to do.
#[derive(Debug, Default)]
pub struct MatchAction {
    /// The cell's decisions changed (the notebook is dirty).
    pub changed: bool,
    /// Add a SQL cell with this query after the Match cell, and run it.
    pub new_sql: Option<String>,
    /// Match the cell's table with this one (a related table was picked).
    pub match_with: Option<String>,
}

/// Draws a Match cell's output; decisions are written into `cell`.
pub fn match_ui(ui: &mut egui::Ui, id: &str, cell: &mut Cell, output: &MatchOutput) -> MatchAction {
    match output {
        MatchOutput::Pairs(report) => pairs_ui(ui, id, cell, report),
        MatchOutput::Related { table, related } => related_ui(ui, table, related),
    }
}

fn pairs_ui(ui: &mut egui::Ui, id: &str, cell: &mut Cell, report: &MatchReport) -> MatchAction {
    let mut action = MatchAction::default();
    let accepted = pair_list(cell, "accepted");
    let rejected = pair_list(cell, "rejected");
    let kept = accepted_pairs(report, &accepted, &rejected);
    ui.add_space(4.0);
    ui.label(
        egui::RichText::new(format!(
            "{} ↔ {}: {} kept of {} candidate pairs",
            report.source,
            report.target,
            kept.len(),
            report.ranked.len()
        ))
        .strong(),
    );
    verdicts_ui(ui, report);
    ui.horizontal(|ui| {
        let any = !kept.is_empty();
        if ui
            .add_enabled(any, egui::Button::new("SQL join"))
            .on_hover_text("A new SQL cell joining the tables on the kept key pair")
            .clicked()
        {
            action.new_sql = to_sql::join_sql(report, &kept);
        }
        if ui
            .add_enabled(any, egui::Button::new("SQL union"))
            .on_hover_text("A new SQL cell stacking both tables' kept columns")
            .clicked()
        {
            action.new_sql = to_sql::union_sql(report, &kept);
        }
        if ui
            .small_button("reset")
            .on_hover_text("Forget every keep / drop decision")
            .clicked()
        {
            cell.params.remove("accepted");
            cell.params.remove("rejected");
            action.changed = true;
        }
    });
    if let Some(toggled) = pairs_list_ui(ui, id, report, &kept) {
        toggle(cell, &toggled, &kept);
        action.changed = true;
    }
    egui::CollapsingHeader::new("diagram")
        .id_salt((id, "diagram"))
        .default_open(true)
        .show(ui, |ui| diagram_ui(ui, report, &kept));
    for note in &report.notes {
        ui.weak(format!("note: {note}"));
    }
    action
}

fn verdicts_ui(ui: &mut egui::Ui, report: &MatchReport) {
    let join = match &report.tables.join {
        Some(j) => format!(
            "joinable {:.2}: {} = {} ({:.0}% of values contained)",
            j.score,
            j.source_column,
            j.target_column,
            j.containment * 100.0
        ),
        None => "not joinable: no key-like column pair shares values".into(),
    };
    ui.weak(format!(
        "{join} · unionable {:.2} ({} columns aligned)",
        report.tables.unionability, report.tables.aligned
    ));
}

/// The ranked pairs with keep checkboxes; returns the pair whose box was clicked.
fn pairs_list_ui(
    ui: &mut egui::Ui,
    id: &str,
    report: &MatchReport,
    kept: &[(String, String)],
) -> Option<(String, String)> {
    let mut toggled = None;
    egui::ScrollArea::vertical()
        .id_salt((id, "pairs"))
        .max_height(320.0)
        .show(ui, |ui| {
            egui::Grid::new((id, "pairs-grid"))
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    for m in report.ranked.iter().take(LISTED) {
                        let pair = (m.source.clone(), m.target.clone());
                        let mut keep = kept.contains(&pair);
                        if ui
                            .checkbox(&mut keep, "")
                            .on_hover_text("Keep this correspondence")
                            .changed()
                        {
                            toggled = Some(pair);
                        }
                        ui.label(format!("{}  ↔  {}", m.source, m.target));
                        ui.add(
                            egui::ProgressBar::new(m.score as f32)
                                .desired_width(90.0)
                                .text(format!("{:.2}", m.score)),
                        )
                        .on_hover_ui(|ui| evidence_ui(ui, m));
                        ui.add(
                            egui::Label::new(egui::RichText::new(m.strongest_evidence()).weak())
                                .truncate(),
                        );
                        ui.end_row();
                    }
                });
            if report.ranked.len() > LISTED {
                ui.weak(format!("… {} weaker pairs", report.ranked.len() - LISTED));
            }
            if report.ranked.is_empty() {
                ui.weak("no column pair has evidence of a correspondence");
            }
        });
    toggled
}

fn evidence_ui(ui: &mut egui::Ui, m: &ColumnMatch) {
    ui.strong(format!("{}  ↔  {}", m.source, m.target));
    for e in &m.evidence {
        ui.label(format!("{:<12} {:.2}  {}", e.matcher, e.score, e.detail));
    }
}

/// Flips a pair between kept and dropped, recording the decision.
fn toggle(cell: &mut Cell, pair: &(String, String), kept: &[(String, String)]) {
    let mut accepted = pair_list(cell, "accepted");
    let mut rejected = pair_list(cell, "rejected");
    accepted.retain(|p| p != pair);
    rejected.retain(|p| p != pair);
    if kept.contains(pair) {
        rejected.push(pair.clone());
    } else {
        accepted.push(pair.clone());
    }
    let as_toml = |pairs: Vec<(String, String)>| {
        toml::Value::Array(
            pairs
                .into_iter()
                .map(|(s, t)| toml::Value::Array(vec![s.into(), t.into()]))
                .collect(),
        )
    };
    cell.params.insert("accepted".into(), as_toml(accepted));
    cell.params.insert("rejected".into(), as_toml(rejected));
}

/// The two tables' columns side by side, a line per kept pair (and a faint
/// one per strong candidate).
fn diagram_ui(ui: &mut egui::Ui, report: &MatchReport, kept: &[(String, String)]) {
    let mut left: Vec<&str> = Vec::new();
    let mut right: Vec<&str> = Vec::new();
    for m in report.ranked.iter().take(LISTED) {
        if !left.contains(&m.source.as_str()) {
            left.push(&m.source);
        }
        if !right.contains(&m.target.as_str()) {
            right.push(&m.target);
        }
    }
    let row = 18.0;
    let height = (left.len().max(right.len()) as f32 * row + 24.0).min(600.0);
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width().min(560.0), height),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let text = visuals.text_color();
    let font = egui::FontId::proportional(12.0);
    painter.text(
        rect.left_top(),
        egui::Align2::LEFT_TOP,
        &report.source,
        egui::FontId::proportional(13.0),
        text,
    );
    painter.text(
        rect.right_top(),
        egui::Align2::RIGHT_TOP,
        &report.target,
        egui::FontId::proportional(13.0),
        text,
    );
    let y = |i: usize| rect.top() + 24.0 + i as f32 * row + row / 2.0;
    let lx = rect.left() + rect.width() * 0.38;
    let rx = rect.right() - rect.width() * 0.38;
    for (i, name) in left.iter().enumerate() {
        painter.text(
            egui::pos2(lx - 6.0, y(i)),
            egui::Align2::RIGHT_CENTER,
            *name,
            font.clone(),
            text,
        );
    }
    for (i, name) in right.iter().enumerate() {
        painter.text(
            egui::pos2(rx + 6.0, y(i)),
            egui::Align2::LEFT_CENTER,
            *name,
            font.clone(),
            text,
        );
    }
    let accent = visuals.selection.bg_fill;
    for m in report.ranked.iter().take(LISTED) {
        let (Some(a), Some(b)) = (
            left.iter().position(|n| *n == m.source),
            right.iter().position(|n| *n == m.target),
        ) else {
            continue;
        };
        let is_kept = kept.iter().any(|(s, t)| *s == m.source && *t == m.target);
        let stroke = if is_kept {
            egui::Stroke::new(1.0 + 2.0 * m.score as f32, accent)
        } else if m.score >= 0.5 {
            egui::Stroke::new(1.0, visuals.weak_text_color().gamma_multiply(0.5))
        } else {
            continue;
        };
        painter.line_segment([egui::pos2(lx, y(a)), egui::pos2(rx, y(b))], stroke);
    }
}

fn related_ui(ui: &mut egui::Ui, table: &str, related: &[Related]) -> MatchAction {
    let mut action = MatchAction::default();
    ui.add_space(4.0);
    ui.label(egui::RichText::new(format!("Tables related to {table}")).strong());
    if related.is_empty() {
        ui.weak("no table of the lake can be joined or unioned with it");
    }
    egui::Grid::new(("related", table))
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for r in related {
                ui.label(&r.table);
                ui.add(
                    egui::ProgressBar::new(r.score as f32)
                        .desired_width(90.0)
                        .text(format!("{:.2}", r.score)),
                );
                ui.weak(related_why(r));
                if ui
                    .small_button("match")
                    .on_hover_text(format!("Match {table} with {} column by column", r.table))
                    .clicked()
                {
                    action.match_with = Some(r.table.clone());
                }
                ui.end_row();
            }
        });
    action
}
