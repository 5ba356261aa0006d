//! The app's side of the test probe ([`crate::gui::probe`]): what the
//! window holds, as JSON.

use serde_json::{Value, json};

use super::*;
use crate::gui::probe::rect;

impl LakebookApp {
    /// The state a real-input test reads back: the window, the cells and
    /// how they stand, the selection, the messages shown.
    pub(super) fn probe_state(&self, ctx: &egui::Context) -> Value {
        let cells: Vec<Value> = self
            .notebook
            .cells
            .iter()
            .map(|cell| {
                let state = self.states.get(&cell.id);
                let error = state
                    .and_then(|s| s.outcome.as_ref())
                    .and_then(|o| o.as_ref().err())
                    .map(|e| e.message.clone());
                json!({
                    "id": cell.id,
                    "kind": cell.kind,
                    "status": format!("{:?}", state.map_or(CellStatus::Idle, |s| s.status.clone())),
                    "error": error,
                    "rows": state.and_then(|s| s.run()).map(|r| r.output.rows()),
                })
            })
            .collect();
        let stopped = self
            .run_stopped
            .as_ref()
            .map(|s| json!({ "at": s.at, "cancelled": s.cancelled, "rest": s.rest }));
        json!({
            "window": ctx.input(|i| i.viewport().inner_rect.map(rect)),
            "pixels_per_point": ctx.pixels_per_point(),
            "selected": self.selected,
            "cells": cells,
            "run_stopped": stopped,
            "toasts": self.toasts.shown().iter().map(|t| json!({ "text": t.text, "failure": t.failure })).collect::<Vec<_>>(),
            "busy": self.busy(),
            "dirty": self.dirty,
            "path": self.path,
        })
    }
}
