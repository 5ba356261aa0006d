//! A cell's state in the window: where it stands, its last output and the
//! views of that output.

use super::*;

/// Where a cell stands.
#[derive(Debug, Clone, PartialEq)]
pub enum CellStatus {
    /// Never run in this session (it may show a cached output).
    Idle,
    /// Running now.
    Running,
    /// Finished.
    Done,
    /// Failed.
    Failed,
    /// Stopped by the user.
    Cancelled,
}

/// What the window keeps per cell besides the cell itself.
pub struct CellState {
    /// Where it stands.
    pub status: CellStatus,
    /// The last output.
    pub run: Option<CellRun>,
    /// The last error.
    pub error: Option<CellError>,
    /// Result tables on screen (one per table or search group).
    pub(super) tables: Vec<ResultTable>,
    /// The running job.
    pub(super) job: Option<Job>,
    /// The graph view of a Graph or Communities output.
    pub(super) graph: Option<GraphPanel>,
    /// A cached graph output without the graph itself asked for it (once).
    pub(super) graph_requested: bool,
    /// The scatter and subpopulations of a Clusters output.
    pub(super) clusters: Option<ClusterPanel>,
    /// The unread rest of a table result, fetched as the user scrolls.
    pub(super) more: Option<ResultPager>,
    /// A page is being fetched.
    pub(super) fetching: bool,
    /// The result table holds every row of the result.
    pub(super) whole: bool,
}

impl CellState {
    pub(super) fn new() -> Self {
        Self {
            status: CellStatus::Idle,
            run: None,
            error: None,
            tables: Vec::new(),
            job: None,
            graph: None,
            graph_requested: false,
            clusters: None,
            more: None,
            fetching: false,
            whole: true,
        }
    }

    pub(super) fn set_run(&mut self, mut run: CellRun) {
        self.more = run.more.take();
        self.fetching = false;
        let parts = run.output.parts();
        self.whole = !parts.iter().any(|p| {
            matches!(
                p,
                CellOutput::Table {
                    complete: false,
                    ..
                }
            )
        });
        // One result table per table part and per search group, in order.
        self.tables = parts
            .iter()
            .flat_map(|part| match part {
                CellOutput::Table {
                    schema, batches, ..
                } => ResultTable::new(schema, batches).into_iter().collect(),
                CellOutput::Search(groups) => groups
                    .iter()
                    .filter_map(|g| {
                        ResultTable::new(&g.rows.schema(), std::slice::from_ref(&g.rows)).ok()
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        self.graph = parts.iter().find_map(|part| match part {
            CellOutput::Graph(g) => GraphPanel::new(g),
            _ => None,
        });
        self.clusters = parts.iter().find_map(|part| match part {
            CellOutput::Cluster(c) => Some(ClusterPanel::new(c)),
            _ => None,
        });
        self.run = Some(run);
        self.error = None;
    }
}

/// Keeps a side panel's width in `slot` for the next session (written when
/// the user lets go of the divider, and on exit); true when it changed.
pub(super) fn remember_width(slot: &mut Option<f32>, width: f32) -> bool {
    if slot.is_some_and(|w| (w - width).abs() < 1.0) {
        return false;
    }
    *slot = Some(width.round());
    true
}
