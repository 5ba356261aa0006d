//! `sql`: one query over every dataset of the lake.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use lakebook_core::render::render_batches;
use lakebook_core::sql::SqlEngine;
use lakebook_core::{Job, Lake};

use super::output::{Format, print_query, write_text};

/// Arguments of `sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query.
    pub query: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Print the query time to stderr.
    #[arg(long)]
    pub timing: bool,
    /// Run the query this many times in one session (columns stay cached in
    /// memory after the first run, as in the notebook); with --timing each run's time is printed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Rows shown in table format (0 shows all); csv and json print every row.
    #[arg(long, default_value_t = 200)]
    pub max_rows: usize,
}

/// `sql QUERY`: stops on `job`'s cancel (Ctrl-C) and counts rows as they come.
pub async fn run_sql(
    lake_dir: &Path,
    args: SqlArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let SqlArgs {
        query,
        format,
        timing,
        repeat,
        max_rows,
    } = args;
    let lake = Lake::open(lake_dir).await?;
    if repeat == 1 {
        let started = std::time::Instant::now();
        let engine = SqlEngine::new(&lake);
        let rows = print_query(&engine, &query, format, max_rows, out, job).await?;
        if timing {
            let ms = started.elapsed().as_secs_f64() * 1e3;
            eprintln!("{rows} rows in {ms:.3} ms");
        }
        return Ok(());
    }
    let engine = SqlEngine::with_cache(&lake, sql_cache_bytes());
    let mut result = None;
    for run in 0..repeat {
        let started = std::time::Instant::now();
        job.set_message(format!("run {} of {repeat}", run + 1));
        let r = job.or_cancelled(engine.query(&query)).await??;
        if timing {
            let ms = started.elapsed().as_secs_f64() * 1e3;
            eprintln!("{} rows in {ms:.3} ms", r.num_rows());
        }
        result = Some(r);
    }
    if let Some(r) = result {
        let total = r.num_rows();
        let shown = if format == Format::Table && max_rows > 0 && total > max_rows {
            let batch = arrow::compute::concat_batches(&r.schema, &r.batches)?;
            vec![batch.slice(0, max_rows)]
        } else {
            r.batches
        };
        let text = render_batches(&r.schema, &shown, format.into())?;
        write_text(out, &text)?;
        if format == Format::Table && shown.iter().map(|b| b.num_rows()).sum::<usize>() < total {
            writeln!(
                out,
                "({total} rows; showing the first {max_rows}: use --max-rows 0, or --format csv|json, for all)"
            )?;
        }
    }

    Ok(())
}

/// Memory for the SQL session cache: `LAKEBOOK_SQL_CACHE_MB`, default 1024.
fn sql_cache_bytes() -> usize {
    std::env::var("LAKEBOOK_SQL_CACHE_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1024)
        << 20
}
