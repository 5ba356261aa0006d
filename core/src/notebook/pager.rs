//! Query results a page at a time: a SQL cell keeps the first page and hands
//! the rest of the stream to its front end, which pulls further pages only
//! when the user scrolls towards the end. A result of a billion rows costs
//! what the user looks at, not what the query could return.

use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use tokio::sync::Mutex;

/// Why the next page of a result could not be read: the query's own error,
/// shown as DataFusion words it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(#[from] pub datafusion::error::DataFusionError);

/// Rows in the first page a SQL cell keeps (and in each later page).
pub const PAGE_ROWS: usize = 100_000;

/// Arrow bytes after which a page ends early (wide rows).
pub const PAGE_BYTES: usize = 64 << 20;

/// Rows pulled from a stream: some batches, and whether the stream ended.
#[derive(Debug, Default)]
pub struct Page {
    /// The rows, in order.
    pub batches: Vec<RecordBatch>,
    /// No rows are left after these.
    pub done: bool,
}

impl Page {
    /// Rows in the page.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Pulls batches from `stream` until `rows` rows or [`PAGE_BYTES`] (at least
/// one batch), or the end.
pub async fn read_page(
    stream: &mut SendableRecordBatchStream,
    rows: usize,
) -> Result<Page, PageError> {
    let mut page = Page::default();
    let (mut taken, mut bytes) = (0usize, 0usize);
    while taken < rows && bytes < PAGE_BYTES {
        match stream.next().await {
            Some(Ok(batch)) => {
                taken += batch.num_rows();
                bytes += batch.get_array_memory_size();
                if batch.num_rows() > 0 {
                    page.batches.push(batch);
                }
            }
            Some(Err(e)) => return Err(e.into()),
            None => {
                page.done = true;
                break;
            }
        }
    }
    Ok(page)
}

/// The rest of a query's result, shared by whoever shows it; pages come in
/// order, one request at a time.
#[derive(Clone)]
pub struct ResultPager {
    stream: Arc<Mutex<Option<SendableRecordBatchStream>>>,
}

impl std::fmt::Debug for ResultPager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResultPager")
    }
}

impl ResultPager {
    /// Wraps the unread part of a stream.
    pub fn new(stream: SendableRecordBatchStream) -> Self {
        Self {
            stream: Arc::new(Mutex::new(Some(stream))),
        }
    }

    /// The next page of up to `rows` rows; after the last one, empty pages
    /// with `done` set. The query's resources are released at the end.
    pub async fn next_page(&self, rows: usize) -> Result<Page, PageError> {
        let mut guard = self.stream.lock().await;
        let Some(stream) = guard.as_mut() else {
            return Ok(Page {
                batches: Vec::new(),
                done: true,
            });
        };
        let page = read_page(stream, rows).await;
        if page.as_ref().map_or(true, |p| p.done) {
            *guard = None;
        }
        page
    }

    /// Every row left (for front ends that print the whole result).
    pub async fn rest(&self) -> Result<Vec<RecordBatch>, PageError> {
        let mut batches = Vec::new();
        self.drain(|page| batches.extend(page.batches)).await?;
        Ok(batches)
    }

    /// How many rows are left, read page by page and dropped (memory stays
    /// bounded).
    pub async fn count_rest(&self) -> Result<usize, PageError> {
        let mut rows = 0;
        self.drain(|page| rows += page.rows()).await?;
        Ok(rows)
    }

    /// Hands every page left to `each`, in order.
    async fn drain(&self, mut each: impl FnMut(Page)) -> Result<(), PageError> {
        loop {
            let page = self.next_page(PAGE_ROWS).await?;
            let done = page.done;
            each(page);
            if done {
                return Ok(());
            }
        }
    }
}
