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

/// A run of several cells that stopped before its end.
pub(super) struct RunStopped {
    /// The cell that failed or was cancelled.
    pub(super) at: String,
    /// Cancelled by the user rather than failed.
    pub(super) cancelled: bool,
    /// The cells that were still to run, in order.
    pub(super) rest: Vec<String>,
}

/// What the window keeps per cell besides the cell itself.
pub struct CellState {
    /// Where it stands.
    pub status: CellStatus,
    /// The last run or the last error; a new one replaces it.
    pub(super) outcome: Option<Result<CellRun, CellError>>,
    /// The running job.
    pub(super) job: Option<Job>,
    /// The window's view of each part of the last run's output, in order.
    pub(super) views: Vec<PartView>,
    /// The unread rest of the first table, fetched as the user scrolls.
    pub(super) paging: Paging,
}

/// The window's view of one output part.
pub(super) enum PartView {
    /// Drawn straight from the part (text, Markdown, a match diagram).
    Plain,
    /// A table part's scrolling table.
    Table(ResultTable),
    /// A search part: one table per group of hits.
    Search(Vec<ResultTable>),
    /// A graph part.
    Graph(GraphView),
    /// A clusters part: its scatter and subpopulations.
    Clusters(ClusterPanel),
}

/// A graph part's view: its panel, or why there is none yet.
pub(super) enum GraphView {
    /// The interactive graph panel.
    Shown(GraphPanel),
    /// A cached output, which holds no graph: it is read from the lake once.
    Missing,
    /// The stored graph was asked for.
    Requested,
}

/// Paging through a table result larger than its first page.
#[derive(Default)]
pub(super) struct Paging {
    /// The pager over the unread rows; none once everything is read.
    pub(super) more: Option<ResultPager>,
    /// A page is being fetched.
    pub(super) fetching: bool,
    /// Some table holds only part of its result (cached or still paging).
    pub(super) partial: bool,
}

impl CellState {
    pub(super) fn new() -> Self {
        Self {
            status: CellStatus::Idle,
            outcome: None,
            job: None,
            views: Vec::new(),
            paging: Paging::default(),
        }
    }

    /// The last run, unless the last outcome was an error.
    pub fn run(&self) -> Option<&CellRun> {
        self.outcome.as_ref().and_then(|o| o.as_ref().ok())
    }

    /// The first table view, which paging fills.
    pub(super) fn first_table(&mut self) -> Option<&mut ResultTable> {
        self.views.iter_mut().find_map(|view| match view {
            PartView::Table(table) => Some(table),
            PartView::Search(tables) => tables.first_mut(),
            _ => None,
        })
    }

    /// Shows `run`; views with heavy set-up start it through `spawner`.
    pub(super) fn set_run(&mut self, mut run: CellRun, spawner: &Spawner) {
        let more = run.more.take();
        let parts = run.output.parts();
        let partial = parts.iter().any(|p| {
            matches!(
                p,
                CellOutput::Table {
                    complete: false,
                    ..
                }
            )
        });
        self.paging = Paging {
            more,
            fetching: false,
            partial,
        };
        self.views = parts
            .iter()
            .map(|part| match part {
                CellOutput::Table {
                    schema, batches, ..
                } => ResultTable::new(schema, batches).map_or(PartView::Plain, PartView::Table),
                CellOutput::Search(groups) => PartView::Search(
                    groups
                        .iter()
                        .filter_map(|g| {
                            let rows = hits_in_reading_order(&g.rows);
                            ResultTable::new(&rows.schema(), std::slice::from_ref(&rows)).ok()
                        })
                        .collect(),
                ),
                CellOutput::Graph(g) => PartView::Graph(match GraphPanel::new(g, spawner) {
                    Some(panel) => GraphView::Shown(panel),
                    None => GraphView::Missing,
                }),
                CellOutput::Cluster(c) => PartView::Clusters(ClusterPanel::new(c)),
                _ => PartView::Plain,
            })
            .collect();
        self.outcome = Some(Ok(run));
    }

    /// Shows `error` instead of the last run (the caller sets the status).
    pub(super) fn set_error(&mut self, error: CellError) {
        self.views.clear();
        self.paging = Paging::default();
        self.outcome = Some(Err(error));
    }
}

/// Search hits with what the person came for first: the score, the text,
/// then the other columns.
fn hits_in_reading_order(rows: &arrow::array::RecordBatch) -> arrow::array::RecordBatch {
    let schema = rows.schema();
    let mut order: Vec<usize> = ["score", "text"]
        .iter()
        .filter_map(|name| schema.index_of(name).ok())
        .collect();
    let rest: Vec<usize> = (0..schema.fields().len())
        .filter(|i| !order.contains(i))
        .collect();
    order.extend(rest);
    rows.project(&order).unwrap_or_else(|_| rows.clone())
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
