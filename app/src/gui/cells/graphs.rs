//! Graph cells (where the graph comes from) and Communities cells (which
//! graph, seeds, resolution).

use lakebook_core::graph::sources::MAX_KNN_K;
use lakebook_core::notebook::Cell;
use lakebook_core::notebook::kinds::communities::seed_list;

use super::{CellEditor, EditorResponse, LakeNames, number_param, text_param};

/// The graph sources a Graph cell offers: (value, label).
const SOURCES: [(&str, &str); 5] = [
    ("edges", "an edge table"),
    ("sql", "a SQL query"),
    ("cooccur", "values that share groups"),
    ("knn", "nearest neighbours (embeddings)"),
    ("lake", "the lake's own schema"),
];

/// A combo box of datasets.
fn dataset_combo(
    ui: &mut egui::Ui,
    salt: egui::Id,
    value: &mut String,
    names: &LakeNames<'_>,
) -> bool {
    let mut changed = false;
    let shown = if value.is_empty() {
        "choose a table".to_string()
    } else {
        value.clone()
    };
    let _ = egui::ComboBox::from_id_salt((salt, "dataset"))
        .selected_text(shown)
        .width(150.0)
        .show_ui(ui, |ui| {
            for (name, _) in names.datasets {
                changed |= ui.selectable_value(value, name.clone(), name).changed();
            }
        })
        .response
        .accessible_name("dataset");
    changed
}

/// A combo box of the chosen dataset's columns (`optional` adds "none").
fn column_combo(
    ui: &mut egui::Ui,
    salt: (egui::Id, &str),
    value: &mut String,
    columns: &[String],
    optional: bool,
) -> bool {
    let mut changed = false;
    let shown = if value.is_empty() {
        if optional { "none" } else { "column" }.to_string()
    } else {
        value.clone()
    };
    let _ = egui::ComboBox::from_id_salt(salt)
        .selected_text(shown)
        .width(120.0)
        .show_ui(ui, |ui| {
            if optional {
                changed |= ui.selectable_value(value, String::new(), "none").changed();
            }
            for c in columns {
                changed |= ui.selectable_value(value, c.clone(), c).changed();
            }
        })
        .response
        .accessible_name(salt.1);
    changed
}

/// Editor of `graph` cells.
pub struct GraphEditor;

impl CellEditor for GraphEditor {
    fn kind(&self) -> &'static str {
        "graph"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, names: &LakeNames<'_>) -> EditorResponse {
        let mut changed = false;
        let salt = ui.scope_id();
        ui.horizontal_wrapped(|ui| {
            ui.label("graph");
            changed |= ui
                .add(
                    egui::TextEdit::singleline(text_param(cell, "name"))
                        .hint_text("name")
                        .desired_width(110.0),
                )
                .changed();
            ui.label("from");
            let from = text_param(cell, "from");
            if from.is_empty() {
                *from = "edges".into();
            }
            let shown = SOURCES
                .iter()
                .find(|(v, _)| v == from)
                .map_or(from.clone(), |(_, l)| (*l).to_string());
            let _ = egui::ComboBox::from_id_salt((salt, "from"))
                .selected_text(shown)
                .width(200.0)
                .show_ui(ui, |ui| {
                    for (value, label) in SOURCES {
                        changed |= ui
                            .selectable_value(from, value.to_string(), label)
                            .changed();
                    }
                })
                .response
                .accessible_name("from");
        });
        let from = text_param(cell, "from").clone();
        let dataset = text_param(cell, "dataset").clone();
        let columns: Vec<String> = names
            .datasets
            .iter()
            .find(|(n, _)| *n == dataset)
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        ui.horizontal_wrapped(|ui| match from.as_str() {
            "edges" | "sql" => {
                if from == "edges" {
                    changed |= dataset_combo(ui, salt, text_param(cell, "dataset"), names);
                } else {
                    changed |= ui
                        .add(
                            egui::TextEdit::multiline(text_param(cell, "query"))
                                .code_editor()
                                .desired_rows(2)
                                .hint_text("SELECT a, b FROM …"),
                        )
                        .changed();
                }
                ui.label("source");
                changed |= column_combo_or_text(
                    ui,
                    (salt, "source"),
                    text_param(cell, "source"),
                    &columns,
                    false,
                );
                ui.label("target");
                changed |= column_combo_or_text(
                    ui,
                    (salt, "target"),
                    text_param(cell, "target"),
                    &columns,
                    false,
                );
                ui.label("weight");
                changed |= column_combo_or_text(
                    ui,
                    (salt, "weight"),
                    text_param(cell, "weight"),
                    &columns,
                    true,
                );
            }
            "cooccur" => {
                changed |= dataset_combo(ui, salt, text_param(cell, "dataset"), names);
                ui.label("link each");
                changed |= column_combo(
                    ui,
                    (salt, "item"),
                    text_param(cell, "item"),
                    &columns,
                    false,
                );
                ui.label("sharing a");
                changed |= column_combo(
                    ui,
                    (salt, "group"),
                    text_param(cell, "group"),
                    &columns,
                    false,
                );
            }
            "knn" => {
                changed |= dataset_combo(ui, salt, text_param(cell, "dataset"), names);
                let mut k = cell.int("k").unwrap_or(10);
                ui.label("neighbours");
                if ui
                    .add(egui::DragValue::new(&mut k).range(1..=MAX_KNN_K as i64))
                    .accessible_name("k")
                    .changed()
                {
                    cell.set("k", k);
                    changed = true;
                }
            }
            _ => {
                ui.small("datasets and their columns, linked to the columns of related tables");
            }
        });
        EditorResponse {
            changed,
            pick: None,
        }
    }
}

/// A column combo box when the columns are known, else a text field (SQL results).
fn column_combo_or_text(
    ui: &mut egui::Ui,
    salt: (egui::Id, &str),
    value: &mut String,
    columns: &[String],
    optional: bool,
) -> bool {
    if columns.is_empty() {
        ui.add(
            egui::TextEdit::singleline(value)
                .desired_width(90.0)
                .hint_text(if optional { "none" } else { "column" }),
        )
        .changed()
    } else {
        column_combo(ui, salt, value, columns, optional)
    }
}

/// Editor of `communities` cells.
pub struct CommunitiesEditor;

impl CellEditor for CommunitiesEditor {
    fn kind(&self) -> &'static str {
        "communities"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, names: &LakeNames<'_>) -> EditorResponse {
        let mut changed = false;
        let salt = ui.scope_id();
        // Stored graphs show up as their NAME_nodes datasets.
        let graphs: Vec<String> = names
            .datasets
            .iter()
            .filter_map(|(n, _)| n.strip_suffix("_nodes").map(str::to_string))
            .collect();
        ui.horizontal_wrapped(|ui| {
            ui.label("communities of");
            let graph = text_param(cell, "graph");
            let shown = if graph.is_empty() {
                "choose a graph".to_string()
            } else {
                graph.clone()
            };
            let _ = egui::ComboBox::from_id_salt((salt, "graph"))
                .selected_text(shown)
                .width(140.0)
                .show_ui(ui, |ui| {
                    for g in &graphs {
                        changed |= ui.selectable_value(graph, g.clone(), g).changed();
                    }
                })
                .response
                .accessible_name("graph");
            ui.label("around seeds");
            let mut seeds = seed_list(cell).join(", ");
            if ui
                .add(
                    egui::TextEdit::singleline(&mut seeds)
                        .hint_text("node ids (empty: whole graph)")
                        .desired_width(200.0),
                )
                .changed()
            {
                let list: Vec<toml::Value> = seeds
                    .split(',')
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect();
                cell.set("seeds", toml::Value::Array(list));
                changed = true;
            }
            ui.label("resolution");
            changed |= number_param(ui, cell, "resolution", 1.0, 0.05..=10.0, 0.05)
                .on_hover_text("Higher gives more, smaller communities")
                .changed();
            ui.label("passes");
            let mut passes = cell.int("passes").unwrap_or(0).max(0);
            if ui
                .add(
                    egui::DragValue::new(&mut passes)
                        .range(0..=i64::MAX)
                        .custom_formatter(|n, _| {
                            if n < 0.5 {
                                "until stable".to_string()
                            } else {
                                format!("{n:.0}")
                            }
                        })
                        .custom_parser(|text| {
                            let text = text.trim();
                            if text.is_empty() || text.starts_with("until") {
                                Some(0.0)
                            } else {
                                text.parse::<f64>().ok()
                            }
                        }),
                )
                .on_hover_text(
                    "Most passes of Leiden over the whole graph. Until stable gives the best \
                     modularity; on large graphs a few passes give nearly as good, much sooner",
                )
                .accessible_name("passes")
                .changed()
            {
                cell.set("passes", passes);
                changed = true;
            }
            ui.label("random seed");
            let mut seed = cell.int("seed").unwrap_or(42);
            if ui
                .add(egui::DragValue::new(&mut seed).range(0..=i64::MAX))
                .on_hover_text("Random seed: the same seed gives the same communities")
                .accessible_name("seed")
                .changed()
            {
                cell.set("seed", seed);
                changed = true;
            }
        });
        EditorResponse {
            changed,
            pick: None,
        }
    }
}

/// Editor of `cluster` cells.
pub struct ClusterEditor;

impl CellEditor for ClusterEditor {
    fn kind(&self) -> &'static str {
        "cluster"
    }

    fn ui(&self, ui: &mut egui::Ui, cell: &mut Cell, names: &LakeNames<'_>) -> EditorResponse {
        let mut changed = false;
        let salt = ui.scope_id();
        ui.horizontal_wrapped(|ui| {
            ui.label("clusters of");
            changed |= dataset_combo(ui, salt, text_param(cell, "dataset"), names);
            ui.label("by");
            let by = text_param(cell, "by");
            let shown = if by.is_empty() {
                "automatic".to_string()
            } else {
                by.clone()
            };
            let _ = egui::ComboBox::from_id_salt((salt, "by"))
                .selected_text(shown)
                .width(110.0)
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(by, String::new(), "automatic")
                        .on_hover_text("The embedding when the dataset has one, else its columns")
                        .changed();
                    for v in ["embedding", "columns", "both"] {
                        changed |= ui.selectable_value(by, v.to_string(), v).changed();
                    }
                })
                .response
                .accessible_name("by");
            ui.label("with");
            let method = text_param(cell, "method");
            if method.is_empty() {
                *method = "kmeans".into();
            }
            let _ = egui::ComboBox::from_id_salt((salt, "method"))
                .selected_text(method.clone())
                .width(90.0)
                .show_ui(ui, |ui| {
                    for v in ["kmeans", "hdbscan"] {
                        changed |= ui.selectable_value(method, v.to_string(), v).changed();
                    }
                })
                .response
                .accessible_name("method");
            if cell.text("method") == "kmeans" {
                ui.label("k");
                let k = text_param(cell, "k");
                changed |= ui
                    .add(
                        egui::TextEdit::singleline(k)
                            .hint_text("auto")
                            .desired_width(40.0),
                    )
                    .on_hover_text("Number of clusters, or auto (chosen by silhouette)")
                    .changed();
            }
            ui.label("placed by");
            let projection = text_param(cell, "projection");
            if projection.is_empty() {
                *projection = "umap".into();
            }
            let _ = egui::ComboBox::from_id_salt((salt, "projection"))
                .selected_text(projection.clone())
                .width(70.0)
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(projection, "umap".to_string(), "umap")
                        .on_hover_text("Neighbours stay neighbours and groups separate")
                        .changed();
                    changed |= ui
                        .selectable_value(projection, "pca".to_string(), "pca")
                        .on_hover_text("The two directions of most variance: faster")
                        .changed();
                })
                .response
                .accessible_name("projection");
        });
        EditorResponse {
            changed,
            pick: None,
        }
    }
}
