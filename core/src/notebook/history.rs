//! Undo and redo for a notebook's cells: every change (an edit, an added,
//! moved or deleted cell) can be taken back and done again. A burst of
//! typing is one step, not one per key.

use std::time::{Duration, Instant};

use super::file::Cell;

/// Edits closer together than this are one step.
const BURST: Duration = Duration::from_millis(1_000);

/// Steps kept; the oldest go first.
const MOST_STEPS: usize = 200;

/// The cells as they were before each change, and as they were before each undo.
#[derive(Debug, Default)]
pub struct History {
    undo: Vec<Vec<Cell>>,
    redo: Vec<Vec<Cell>>,
    /// The cells as last seen by [`History::track`].
    seen: Option<Vec<Cell>>,
    /// When the last step was recorded, and whether it was an edit (which
    /// the next edit within [`BURST`] joins).
    last: Option<(Instant, bool)>,
}

/// Whether two lists of cells say the same: the same cells in the same
/// order with the same kinds, parameters and folding. What a run records
/// (`read`) and how results are shown (`views`) are not edits.
fn same_content(a: &[Cell], b: &[Cell]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.id == y.id && x.kind == y.kind && x.collapsed == y.collapsed && x.params == y.params
        })
}

impl History {
    /// Looks at the cells as they are now: a change since the last look
    /// becomes a step (typing, with the same cells in the same order, joins
    /// the step before it within a second).
    pub fn track(&mut self, cells: &[Cell], now: Instant) {
        match &self.seen {
            // Not a step, but remembered as it is now (what the runs read).
            Some(seen) if same_content(seen, cells) => {
                if seen.as_slice() != cells {
                    self.seen = Some(cells.to_vec());
                }
            }
            Some(seen) => {
                let edit =
                    seen.len() == cells.len() && seen.iter().zip(cells).all(|(a, b)| a.id == b.id);
                let before = seen.clone();
                self.record(&before, edit, now);
                self.seen = Some(cells.to_vec());
            }
            None => self.seen = Some(cells.to_vec()),
        }
    }

    /// Notes the cells as they are before a change. `edit` marks typing:
    /// an edit that follows an edit within a second joins its step.
    fn record(&mut self, before: &[Cell], edit: bool, now: Instant) {
        let joins = edit
            && self
                .last
                .is_some_and(|(at, was_edit)| was_edit && now.duration_since(at) < BURST);
        self.last = Some((now, edit));
        if joins {
            return;
        }
        if self.undo.last().is_some_and(|top| top.as_slice() == before) {
            return;
        }
        self.undo.push(before.to_vec());
        if self.undo.len() > MOST_STEPS {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// The cells before the last change, given the cells now (kept for
    /// redo); they are what [`History::track`] sees next.
    pub fn undo(&mut self, now: &[Cell]) -> Option<Vec<Cell>> {
        let before = self.undo.pop()?;
        self.redo.push(now.to_vec());
        self.last = None;
        self.seen = Some(before.clone());
        Some(before)
    }

    /// The cells as they were before the last undo (seen, like `undo`'s).
    pub fn redo(&mut self, now: &[Cell]) -> Option<Vec<Cell>> {
        let after = self.redo.pop()?;
        self.undo.push(now.to_vec());
        self.last = None;
        self.seen = Some(after.clone());
        Some(after)
    }

    /// Whether there is a step to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is a step to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Forgets every step (another notebook was opened).
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(id: &str, sql: &str) -> Cell {
        let mut c = Cell::new("sql", toml::Table::new(), &[]);
        c.id = id.into();
        c.set("sql", sql);
        c
    }

    #[test]
    fn tracking_makes_steps_of_changes_but_not_of_runs() -> Result<(), Box<dyn std::error::Error>> {
        let t0 = Instant::now();
        let mut history = History::default();
        let mut cells = vec![cell("c1", "SELECT 1")];
        history.track(&cells, t0);
        // A run records what it read: not a step.
        cells[0].read.insert("orders".into(), 3);
        history.track(&cells, t0 + Duration::from_secs(1));
        assert!(!history.can_undo());
        // A deleted cell is.
        let before = cells.clone();
        cells.clear();
        history.track(&cells, t0 + Duration::from_secs(2));
        assert_eq!(history.undo(&cells), Some(before.clone()));
        // Seen again as it was: no new step from looking at the undone cells.
        history.track(&before, t0 + Duration::from_secs(3));
        assert!(!history.can_undo());
        assert_eq!(history.redo(&before), Some(Vec::new()));
        Ok(())
    }

    #[test]
    fn changes_undo_and_redo_in_order_and_typing_is_one_step()
    -> Result<(), Box<dyn std::error::Error>> {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut history = History::default();
        let mut cells = vec![cell("c1", "")];
        // Typing "SEL" a key at a time: one step.
        for (n, text) in ["S", "SE", "SEL"].into_iter().enumerate() {
            history.record(&cells, true, ms(200 * n as u64));
            cells[0].set("sql", text);
        }
        // A cell added: a step of its own.
        history.record(&cells, false, ms(500));
        cells.push(cell("c2", "SELECT 2"));
        // Typing again after a pause: another step.
        history.record(&cells, true, ms(5_000));
        cells[0].set("sql", "SELECT 1");

        let typed_again = cells.clone();
        let added = history.undo(&cells).ok_or("nothing to undo")?;
        assert_eq!(added.len(), 2);
        assert_eq!(added[0].text("sql"), "SEL");
        let typed = history.undo(&added).ok_or("nothing to undo")?;
        assert_eq!(typed, vec![cell("c1", "SEL")]);
        let empty = history.undo(&typed).ok_or("nothing to undo")?;
        assert_eq!(empty, vec![cell("c1", "")]);
        assert!(history.undo(&empty).is_none());

        assert_eq!(history.redo(&empty).ok_or("nothing to redo")?, typed);
        assert_eq!(history.redo(&typed).ok_or("nothing to redo")?, added);
        assert_eq!(history.redo(&added).ok_or("nothing to redo")?, typed_again);
        assert!(history.redo(&typed_again).is_none());

        // A new change after an undo forgets what could be redone.
        let back = history.undo(&typed_again).ok_or("nothing to undo")?;
        history.record(&back, false, ms(9_000));
        assert!(!history.can_redo());
        assert!(history.can_undo());
        Ok(())
    }
}
