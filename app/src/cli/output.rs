//! How the command line prints: the `--format` choice and every printer
//! shared by the command families.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use clap::ValueEnum;
use lakebook_core::Job;
use lakebook_core::cluster::ClusterReport;
use lakebook_core::ingest;
use lakebook_core::matching::{MatchOutput, MatchReport, text};
use lakebook_core::notebook::{CellOutput, CellRun, ResultPager};
use lakebook_core::render::{OutputFormat, StreamingWriter, render_batches, row_summary};
use lakebook_core::search::{IndexReport, SearchHits};
use lakebook_core::sql::SqlEngine;

/// Output formats of listings and query results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// An aligned table.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// JSON.
    Json,
}

impl From<Format> for OutputFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => OutputFormat::Table,
            Format::Csv => OutputFormat::Csv,
            Format::Json => OutputFormat::Json,
        }
    }
}

/// Prints what an ingest wrote, noted, left out and ignored.
pub fn print_ingest_report(
    out: &mut (dyn Write + Send),
    report: &ingest::IngestReport,
    format: Format,
) -> Result<()> {
    if format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    for d in &report.datasets {
        writeln!(
            out,
            "{}: +{} rows ({}, version {}, {} rows in all) from {} file{}",
            d.name,
            d.rows_added,
            d.kind,
            d.version,
            d.rows_total,
            d.sources.len(),
            if d.sources.len() == 1 { "" } else { "s" }
        )?;
        if d.rows_skipped > 0 {
            writeln!(out, "  skipped {} bad rows", d.rows_skipped)?;
        }
        for w in &d.warnings {
            writeln!(out, "  note: {w}")?;
        }
        for f in &d.failed {
            writeln!(out, "  failed: {}: {}", f.path, f.reason)?;
        }
    }
    for f in &report.failed_tables {
        writeln!(out, "left out: {}", f.reason)?;
    }
    for name in &report.already_ingested {
        writeln!(out, "{name}: already holds this file; left as it is")?;
    }
    if !report.ignored.is_empty() {
        writeln!(
            out,
            "ignored {} files that are not tables or documents",
            report.ignored.len()
        )?;
    }
    Ok(())
}

/// Runs a query and prints it as its rows arrive: CSV and JSON stream in the
/// memory of one batch; a table keeps the rows it shows (`max_rows`, 0 for
/// all) and counts the rest. Returns the rows of the result.
pub async fn print_query(
    engine: &SqlEngine,
    query: &str,
    format: Format,
    max_rows: usize,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<usize> {
    job.begin_stage("querying", 0, "rows");
    let mut stream = job.or_cancelled(engine.stream(query)).await??;
    let schema = stream.schema();
    if let Some(mut writer) = StreamingWriter::new(&mut *out, format.into()) {
        while let Some(batch) = next_batch(&mut stream, job).await? {
            job.advance(batch.num_rows() as u64);
            writer.write(&batch)?;
        }
        return Ok(writer.finish(&schema)?);
    }
    let (mut kept, mut kept_rows, mut total) = (Vec::new(), 0, 0);
    while let Some(batch) = next_batch(&mut stream, job).await? {
        job.advance(batch.num_rows() as u64);
        total += batch.num_rows();
        let room = if max_rows == 0 {
            batch.num_rows()
        } else {
            max_rows.saturating_sub(kept_rows).min(batch.num_rows())
        };
        if room > 0 {
            kept.push(batch.slice(0, room));
            kept_rows += room;
        }
    }
    write_text(out, &render_batches(&schema, &kept, format.into())?)?;
    if kept_rows < total {
        writeln!(
            out,
            "({total} rows; showing the first {max_rows}: use --max-rows 0, or --format csv|json, for all)"
        )?;
    }
    Ok(total)
}

/// The stream's next batch, or an error once `job` is cancelled (dropping the
/// stream stops the query).
async fn next_batch<S, E>(stream: &mut S, job: &Job) -> Result<Option<RecordBatch>>
where
    S: futures::Stream<Item = std::result::Result<RecordBatch, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    use futures::StreamExt;
    Ok(job.or_cancelled(stream.next()).await?.transpose()?)
}

/// Writes text ending in exactly one newline.
pub fn write_text(out: &mut (dyn Write + Send), text: &str) -> Result<()> {
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}

pub fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), a.data_type() != &DataType::Null))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

pub fn write_batch(
    out: &mut (dyn Write + Send),
    batch: &RecordBatch,
    format: Format,
) -> Result<()> {
    let text = render_batches(&batch.schema(), std::slice::from_ref(batch), format.into())?;
    write_text(out, &text)?;
    Ok(())
}

/// What `embed` and `index` built or refreshed.
pub fn print_indexes(out: &mut (dyn Write + Send), report: &IndexReport) -> Result<()> {
    if let Some((name, action)) = &report.vector {
        writeln!(out, "  vector index {name}: {action}")?;
    }
    for (column, action) in &report.fulltext {
        writeln!(out, "  full-text index on {column}: {action}")?;
    }
    Ok(())
}

/// Search hits: one table per dataset (grouped under headers lake-wide), or JSON.
pub fn print_hits(
    out: &mut (dyn Write + Send),
    groups: &[SearchHits],
    format: Format,
    lake_wide: bool,
) -> Result<()> {
    if format == Format::Json {
        let mut all = Vec::new();
        for g in groups {
            let text = render_batches(
                &g.rows.schema(),
                std::slice::from_ref(&g.rows),
                format.into(),
            )?;
            let hits: serde_json::Value = serde_json::from_str(&text)?;
            all.push(serde_json::json!({
                "dataset": g.dataset,
                "kind": g.kind.to_string(),
                "mode": g.mode.to_string(),
                "hits": hits,
                "notes": g.notes,
            }));
        }
        let value = if lake_wide {
            serde_json::Value::Array(all)
        } else {
            all.pop().map_or(serde_json::Value::Null, |g| g)
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    if groups.is_empty() {
        writeln!(out, "no hits")?;
        return Ok(());
    }
    for g in groups {
        if lake_wide || format == Format::Table {
            writeln!(
                out,
                "{} ({}, {} search): {} hit{}",
                g.dataset,
                g.kind,
                g.mode,
                g.rows.num_rows(),
                if g.rows.num_rows() == 1 { "" } else { "s" }
            )?;
        }
        let rows = if format == Format::Table {
            shorten_text(&g.rows, 80)?
        } else {
            g.rows.clone()
        };
        let text = render_batches(&rows.schema(), &[rows], format.into())?;
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            writeln!(out)?;
        }
        for note in &g.notes {
            writeln!(out, "note: {note}")?;
        }
    }
    Ok(())
}

/// Text cells cut to `max` characters (with an ellipsis), one line each, for a readable table.
pub fn shorten_text(batch: &RecordBatch, max: usize) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if field.data_type() == &DataType::Utf8 {
            let strings = column.as_string::<i32>();
            let short: StringArray = strings
                .iter()
                .map(|v| {
                    v.map(|s| {
                        let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
                        if flat.chars().count() > max {
                            let cut: String = flat.chars().take(max - 1).collect();
                            format!("{cut}…")
                        } else {
                            flat
                        }
                    })
                })
                .collect();
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(Arc::new(short));
        } else if column.data_type().is_nested() {
            continue;
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// A match report as text, or every ranked pair as CSV.
pub fn print_match_report(
    out: &mut (dyn Write + Send),
    r: &MatchReport,
    top: usize,
    csv: bool,
) -> Result<()> {
    if !csv {
        write!(out, "{}", text::report_text(r, top))?;
        return Ok(());
    }
    let selected: std::collections::HashSet<(&str, &str)> = r
        .selected
        .iter()
        .map(|m| (m.source.as_str(), m.target.as_str()))
        .collect();
    writeln!(out, "source,target,score,selected")?;
    for m in &r.ranked {
        let chosen = selected.contains(&(m.source.as_str(), m.target.as_str()));
        writeln!(
            out,
            "{},{},{:.4},{chosen}",
            csv_field(&m.source),
            csv_field(&m.target),
            m.score
        )?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The report for people: each cluster with its label, size, attributes and central rows.
pub fn print_cluster_report(report: &ClusterReport, out: &mut (dyn Write + Send)) -> Result<()> {
    writeln!(
        out,
        "{} rows of {} (version {}) by {}, {}: {} clusters in {:.2} s",
        report.rows,
        report.dataset,
        report.version,
        report.by,
        report.method,
        report.clusters,
        report.seconds
    )?;
    if !report.silhouettes.is_empty() {
        let tried: Vec<String> = report
            .silhouettes
            .iter()
            .map(|(k, s)| format!("{k}: {s:.3}"))
            .collect();
        writeln!(out, "silhouette by k: {}", tried.join(", "))?;
    }
    for note in &report.notes {
        writeln!(out, "  note: {note}")?;
    }
    let shown = report.rows_shown.as_ref();
    for s in &report.subpopulations {
        writeln!(out)?;
        writeln!(
            out,
            "#{:<3} {}  ({} rows, {:.1}%)",
            s.id,
            s.label,
            s.size,
            s.share * 100.0
        )?;
        for a in &s.attributes {
            writeln!(out, "      {}", a.text)?;
        }
        if let Some(rows) = shown {
            for r in &s.central {
                writeln!(out, "      · {}", row_text(rows, *r))?;
            }
        }
    }
    if !report.dimensions.is_empty() {
        writeln!(out)?;
        writeln!(out, "by dimension:")?;
        for d in &report.dimensions {
            let values: Vec<String> = d
                .values
                .iter()
                .map(|(v, ids)| {
                    let ids: Vec<String> = ids.iter().map(|i| format!("#{i}")).collect();
                    format!("{v} → {}", ids.join(" "))
                })
                .collect();
            writeln!(out, "  {}: {}", d.name, values.join("; "))?;
        }
    }
    Ok(())
}

/// One row in a line.
fn row_text(rows: &RecordBatch, r: usize) -> String {
    row_summary(rows, r, 60)
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A cell's output as `lakebook run` prints it: each part in turn; a table
/// shows its first `max_rows` rows (0: all) and counts the rest.
pub async fn print_cell_output(
    out: &mut (dyn Write + Send),
    run: &CellRun,
    format: Format,
    max_rows: usize,
) -> Result<()> {
    // The unread rest of a result belongs to the (first) table.
    let mut more = run.more.as_ref();
    for part in run.output.parts() {
        let pager = match part {
            CellOutput::Table { .. } => more.take(),
            _ => None,
        };
        print_part(out, part, pager, format, max_rows).await?;
    }
    Ok(())
}

async fn print_part(
    out: &mut (dyn Write + Send),
    part: &CellOutput,
    more: Option<&ResultPager>,
    format: Format,
    max_rows: usize,
) -> Result<()> {
    match part {
        CellOutput::Markdown(text) | CellOutput::Text(text) => {
            writeln!(out, "{}", text.trim_end())?;
        }
        CellOutput::Table {
            schema, batches, ..
        } => {
            let first: usize = batches.iter().map(|b| b.num_rows()).sum();
            let mut all = batches.clone();
            let mut total = first;
            // A table shows its first rows and counts the rest page by page
            // (memory stays bounded); csv and json print every row.
            if let Some(more) = more {
                if format == Format::Table && max_rows > 0 && first > max_rows {
                    total += more.count_rest().await?;
                } else {
                    all.extend(more.rest().await?);
                    total = all.iter().map(|b| b.num_rows()).sum();
                }
            }
            let shown = if format == Format::Table && max_rows > 0 && total > max_rows {
                let joined = arrow::compute::concat_batches(schema, &all)?;
                vec![joined.slice(0, max_rows.min(joined.num_rows()))]
            } else {
                all
            };
            let text = render_batches(schema, &shown, format.into())?;
            writeln!(out, "{}", text.trim_end())?;
            if format == Format::Table {
                writeln!(out, "({total} rows)")?;
            }
        }
        CellOutput::Search(groups) => {
            print_hits(out, groups, format, true)?;
        }
        CellOutput::Match(m) => {
            let text = match m.as_ref() {
                MatchOutput::Pairs(report) => text::report_text(report, 20),
                MatchOutput::Related { table, related } => text::related_text(table, related),
            };
            writeln!(out, "{}", text.trim_end())?;
        }
        CellOutput::Cluster(c) => print_cluster_report(c, out)?,
        CellOutput::Parts(_) => {}
        CellOutput::Graph(g) => {
            writeln!(out, "{}", g.summary().trim_end())?;
            if let Some(table) = g.table() {
                let table = table?;
                let shown = if format == Format::Table {
                    table.slice(0, table.num_rows().min(20))
                } else {
                    table.clone()
                };
                let text = render_batches(&table.schema(), &[shown], format.into())?;
                writeln!(out, "{}", text.trim_end())?;
                if format == Format::Table {
                    writeln!(out, "({} rows)", table.num_rows())?;
                }
            }
        }
    }
    Ok(())
}
