//! The lake browser: every table with its columns, found by a filter;
//! stored graphs with their node and edge datasets grouped under them; and
//! what can be done to a dataset from its menu: query, search, embed,
//! rename, remove (into the lake's trash, and back).

use super::*;

impl LakebookApp {
    pub(super) fn browser_ui(&mut self, ui: &mut egui::Ui) {
        let range = panels::side_panel_range(ui.ctx());
        let shown = egui::Panel::left("lake")
            .resizable(true)
            .size_range(range)
            .default_size(panels::clamp_width(self.settings.lake_width, 230.0, range))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.heading("Lake");
                    if ui.small_button("⟳").on_hover_text("Refresh").clicked() {
                        self.commands.push(Command::RefreshLake);
                    }
                    if ui
                        .small_button("➕ Ingest…")
                        .on_hover_text("Add files to the lake")
                        .clicked()
                    {
                        self.commands.push(Command::Add {
                            kind: "ingest".into(),
                            after: None,
                        });
                    }
                });
                let filter = ui.add(
                    egui::TextEdit::singleline(&mut self.lake_filter)
                        .hint_text("🔍 filter datasets and columns")
                        .desired_width(f32::INFINITY),
                );
                crate::gui::probe::mark("lake filter", || crate::gui::probe::rect(filter.rect));
                if let Some(name) = self.removed.last().cloned() {
                    ui.horizontal(|ui| {
                        ui.weak(format!("removed {name}"));
                        let back = ui
                            .small_button("↩ Bring back")
                            .on_hover_text("Restore it from the lake's trash");
                        crate::gui::probe::mark("bring back", || {
                            crate::gui::probe::rect(back.rect)
                        });
                        if back.clicked() {
                            self.commands.push(Command::RestoreDataset(name));
                        }
                    });
                }
                self.rename_ui(ui);
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| self.dataset_list_ui(ui));
            });
        self.settings_changed |=
            remember_width(&mut self.settings.lake_width, shown.response.rect.width());
    }

    /// The tables, then each graph with its datasets; those the filter keeps.
    fn dataset_list_ui(&mut self, ui: &mut egui::Ui) {
        // Taken for the frame and put back (drawing needs `&mut self`):
        // copying every catalog entry each frame would slow a large lake.
        let datasets = std::mem::take(&mut self.datasets);
        let graph_parts = std::mem::take(&mut self.graph_parts);
        self.datasets_ui(ui, &datasets, &graph_parts);
        self.datasets = datasets;
        self.graph_parts = graph_parts;
    }

    fn datasets_ui(
        &mut self,
        ui: &mut egui::Ui,
        datasets: &[(String, DatasetEntry)],
        graph_parts: &BTreeMap<String, String>,
    ) {
        let needle = self.lake_filter.trim().to_lowercase();
        let keeps = |name: &str, entry: &DatasetEntry| {
            needle.is_empty()
                || name.to_lowercase().contains(&needle)
                || column_matches(entry, &needle)
        };
        let mut shown = 0;
        for (name, entry) in datasets {
            if !graph_parts.contains_key(name) && keeps(name, entry) {
                self.dataset_ui(ui, name, entry, &needle, None);
                shown += 1;
            }
        }
        let mut graphs: BTreeMap<&str, Vec<&(String, DatasetEntry)>> = BTreeMap::new();
        for item in datasets {
            if let Some(graph) = graph_parts.get(&item.0) {
                graphs.entry(graph.as_str()).or_default().push(item);
            }
        }
        for (graph, parts) in graphs {
            let kept: Vec<_> = parts
                .into_iter()
                .filter(|(n, e)| keeps(n, e) || graph.to_lowercase().contains(&needle))
                .collect();
            if kept.is_empty() {
                continue;
            }
            shown += kept.len();
            egui::CollapsingHeader::new(format!("⛓ graph {graph}"))
                .id_salt(("graph", graph))
                .show(ui, |ui| {
                    for (name, entry) in kept {
                        self.dataset_ui(ui, name, entry, &needle, Some(graph));
                    }
                })
                .header_response
                .on_hover_text("A stored graph: its nodes and edges, as datasets");
        }
        if datasets.is_empty() {
            ui.weak("The lake is empty. Drop files here, or use Ingest.");
        } else if shown == 0 {
            ui.weak("No dataset or column matches the filter.");
        }
    }

    /// One dataset (part of `graph`, if given): its header (click for
    /// details and the first rows, right-click for what can be done), and
    /// its columns when open.
    fn dataset_ui(
        &mut self,
        ui: &mut egui::Ui,
        name: &str,
        entry: &DatasetEntry,
        needle: &str,
        graph: Option<&str>,
    ) {
        let icon = match entry.kind {
            lakebook_core::lake::DatasetKind::Table => "☰",
            lakebook_core::lake::DatasetKind::Documents => "🗋",
        };
        // A filter that matched a column opens the dataset to show it.
        let column_matched = !needle.is_empty() && column_matches(entry, needle);
        let retired = entry.retired.as_ref().map_or(String::new(), |r| {
            format!(
                " · retired: a view over {}@{}",
                r.container, r.container_version
            )
        });
        let label = if retired.is_empty() {
            format!("{icon} {name}")
        } else {
            format!("{icon} {name} (view)")
        };
        let header = egui::CollapsingHeader::new(label)
            .id_salt(("dataset", name))
            .open(column_matched.then_some(true))
            .show(ui, |ui| {
                ui.weak(format!(
                    "{} rows · v{}{}{retired}",
                    entry.rows,
                    entry.version,
                    if entry.embedding.is_some() {
                        " · embedded"
                    } else {
                        ""
                    }
                ));
                for column in &entry.schema {
                    if column_matched && !column.name.to_lowercase().contains(needle) {
                        continue;
                    }
                    let r = ui
                        .selectable_label(
                            self.inspect.as_ref()
                                == Some(&(name.to_string(), Some(column.name.clone()))),
                            format!("{}  : {}", column.name, column.data_type),
                        )
                        .on_hover_text("Show in the inspector");
                    crate::gui::probe::mark(format!("column:{name}.{}", column.name), || {
                        crate::gui::probe::rect(r.rect)
                    });
                    if r.clicked() {
                        self.commands.push(Command::Inspect {
                            dataset: name.to_string(),
                            column: Some(column.name.clone()),
                        });
                    }
                }
            });
        crate::gui::probe::mark(format!("dataset:{name}"), || {
            crate::gui::probe::rect(header.header_response.rect)
        });
        header
            .header_response
            .context_menu(|ui| self.dataset_menu(ui, name, entry, graph));
        if header.header_response.clicked() {
            self.commands.push(Command::Inspect {
                dataset: name.to_string(),
                column: None,
            });
        }
    }

    /// What can be done to a dataset.
    fn dataset_menu(
        &mut self,
        ui: &mut egui::Ui,
        name: &str,
        entry: &DatasetEntry,
        part_of_graph: Option<&str>,
    ) {
        let mut item = |ui: &mut egui::Ui, label: &str, command: Command| {
            let button = ui.button(label);
            crate::gui::probe::mark(format!("menu:{label}"), || {
                crate::gui::probe::rect(button.rect)
            });
            if button.clicked() {
                self.commands.push(command);
            }
        };
        item(
            ui,
            "Query in a new cell",
            Command::NewCellFor {
                dataset: name.to_string(),
                kind: "sql",
            },
        );
        if entry.embedding.is_some() {
            item(
                ui,
                "Search in a new cell",
                Command::NewCellFor {
                    dataset: name.to_string(),
                    kind: "search",
                },
            );
            item(ui, "Embed new rows", Command::Embed(name.to_string()));
        } else {
            item(ui, "Embed for search", Command::Embed(name.to_string()));
        }
        item(
            ui,
            "Details and first rows",
            Command::Inspect {
                dataset: name.to_string(),
                column: None,
            },
        );
        ui.separator();
        match part_of_graph {
            Some(graph) => {
                ui.weak(format!("part of the graph {graph}: it keeps its name"));
            }
            None => item(ui, "Rename…", Command::StartRename(name.to_string())),
        }
        item(
            ui,
            "Remove (to the trash)",
            Command::RemoveDataset(name.to_string()),
        );
    }

    /// The field where a dataset gets its new name, while renaming.
    fn rename_ui(&mut self, ui: &mut egui::Ui) {
        let Some((from, to)) = &mut self.renaming else {
            return;
        };
        let mut done = None;
        ui.group(|ui| {
            ui.label(format!("Rename {from} to:"));
            let field = ui.add(egui::TextEdit::singleline(to).desired_width(f32::INFINITY));
            crate::gui::probe::mark("rename", || crate::gui::probe::rect(field.rect));
            if !field.has_focus() && !field.lost_focus() && to == from {
                field.request_focus();
            }
            let name = to.trim().to_string();
            let problem = lakebook_core::lake::check_dataset_name(&name).err();
            if let Some(problem) = &problem {
                ui.colored_label(ui.visuals().error_fg_color, problem.to_string());
            }
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            ui.horizontal(|ui| {
                let ok = ui.add_enabled(problem.is_none(), egui::Button::new("Rename"));
                if (ok.clicked() || enter) && problem.is_none() {
                    done = Some(Some((from.clone(), name.clone())));
                }
                if ui.button("Cancel").clicked() {
                    done = Some(None);
                }
            });
        });
        if let Some(answer) = done {
            self.renaming = None;
            if let Some((from, to)) = answer {
                self.commands.push(Command::RenameDataset { from, to });
            }
        }
    }
}

/// Whether one of the dataset's column names contains `needle` (lower case).
fn column_matches(entry: &DatasetEntry, needle: &str) -> bool {
    entry
        .schema
        .iter()
        .any(|c| c.name.to_lowercase().contains(needle))
}
