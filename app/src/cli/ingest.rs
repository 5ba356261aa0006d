//! `ingest` and `demo`: files and folders into the lake.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use lakebook_core::ingest::{self, CsvOptions, IngestOptions, OnError, PassageOptions, WriteMode};
use lakebook_core::{Job, Lake};

use super::output::{Format, print_ingest_report};

/// Arguments of `ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or folders to ingest.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Dataset name (default: the file name without extension, or `documents`).
    #[arg(long)]
    pub name: Option<String>,
    /// Create a new dataset, append to it, or overwrite it (as a new version).
    #[arg(long, value_enum, default_value_t = ModeArg::Create)]
    pub mode: ModeArg,
    /// Stop at the first bad row, or skip bad rows and count them.
    #[arg(long = "on-error", value_enum, default_value_t = OnErrorArg::Fail)]
    pub on_error: OnErrorArg,
    /// With several files: write nothing if any file fails. By default each
    /// file goes in whole or not at all, the bad ones are listed, and the exit
    /// status is 3 when any file was left out.
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Field delimiter of delimited text (default: sniffed among , TAB ; |).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// The first row of delimited text holds column names (default: guessed).
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// The first row of delimited text is data.
    #[arg(long)]
    pub no_header: bool,
    /// Text encoding of delimited text and text documents (e.g. windows-1252, latin1, utf-16; default UTF-8).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Target passage length in words, for documents.
    #[arg(long, default_value_t = 200)]
    pub passage_words: usize,
    /// Words repeated between consecutive passages.
    #[arg(long, default_value_t = 30)]
    pub overlap_words: usize,
    /// Report format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// A new dataset; fails if the name is taken.
    Create,
    /// Add rows as a new version.
    Append,
    /// Replace the rows as a new version.
    Overwrite,
}

/// `--on-error` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    /// Stop and leave the lake unchanged.
    Fail,
    /// Skip and count.
    Skip,
}

/// `ingest PATHS...`.
pub async fn run_ingest(
    lake_dir: &Path,
    args: IngestArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
    show_progress: bool,
) -> Result<()> {
    let options = ingest_options(&args)?;
    let mut lake = Lake::open_or_init(lake_dir).await?;
    let _bar = show_progress.then(|| crate::progress::show(job));
    let started = std::time::Instant::now();
    let report = ingest::ingest(&mut lake, &args.paths, &options, job).await?;
    drop(_bar);
    print_ingest_report(out, &report, args.format)?;
    let left_out: Vec<String> = report
        .failed_tables
        .iter()
        .chain(report.datasets.iter().flat_map(|d| d.failed.iter()))
        .map(|f| match f.reason.starts_with(&f.path) {
            true => f.reason.clone(),
            false => format!("{}: {}", f.path, f.reason),
        })
        .collect();
    if args.format != Format::Json {
        let rows: u64 = report.datasets.iter().map(|d| d.rows_added).sum();
        writeln!(
            out,
            "{} dataset{} written, {rows} rows in {:.2} s",
            report.datasets.len(),
            if report.datasets.len() == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64()
        )?;
    }
    if !left_out.is_empty() {
        return Err(IngestIncomplete { left_out }.into());
    }

    Ok(())
}

/// `demo`: builds the demo lake (and embeds its documents when the model is there).
pub async fn run_demo(
    lake_dir: &Path,
    out: &mut (dyn Write + Send),
    job: &Job,
    show_progress: bool,
) -> Result<()> {
    let assets = super::demo_assets();
    let _bar = show_progress.then(|| crate::progress::show(job));
    let report = lakebook_core::demo::build_demo(lake_dir, &assets, job).await?;
    match report {
        Some(r) => {
            print_ingest_report(out, &r, Format::Table)?;
            writeln!(out, "demo lake built at {}", lake_dir.display())?;
        }
        None => writeln!(
            out,
            "the demo lake at {} is already built",
            lake_dir.display()
        )?,
    }
    // Embedded documents make the demo's search cells work.
    let lake = Lake::open(lake_dir).await?;
    if lake.entry("documents")?.embedding.is_none() {
        drop(lake);
        match lakebook_core::embed::locate_model(None) {
            Ok(_) => {
                let args = super::search::EmbedArgs::for_dataset("documents");
                Box::pin(super::search::run_embed(lake_dir, args, out, job, false)).await?;
            }
            Err(e) => writeln!(out, "documents not embedded, so search is off: {e}")?,
        }
    }
    drop(_bar);
    writeln!(
        out,
        "try: lakebook --lake {} sql \"SELECT city, count(*) AS customers FROM customers GROUP BY city ORDER BY customers DESC LIMIT 5\"",
        lake_dir.display()
    )?;

    Ok(())
}

fn ingest_options(args: &IngestArgs) -> Result<IngestOptions> {
    let delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("\\t" | "tab" | "TAB") => Some(b'\t'),
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => bail!("--delimiter takes one ASCII character (or 'tab'), not '{d}'"),
    };
    let encoding = match args.encoding.as_deref() {
        None => None,
        Some(label) => Some(
            encoding_rs::Encoding::for_label(label.as_bytes())
                .with_context(|| format!("unknown encoding '{label}' (try utf-8, windows-1252, latin1, utf-16le, shift_jis)"))?,
        ),
    };
    Ok(IngestOptions {
        name: args.name.clone(),
        mode: match args.mode {
            ModeArg::Create => WriteMode::Create,
            ModeArg::Append => WriteMode::Append,
            ModeArg::Overwrite => WriteMode::Overwrite,
        },
        on_error: match args.on_error {
            OnErrorArg::Fail => OnError::Fail,
            OnErrorArg::Skip => OnError::Skip,
        },
        csv: CsvOptions {
            delimiter,
            header: if args.header {
                Some(true)
            } else if args.no_header {
                Some(false)
            } else {
                None
            },
            encoding,
        },
        passages: PassageOptions {
            target_words: args.passage_words.max(1),
            overlap_words: args.overlap_words,
        },
        all_or_nothing: args.all_or_nothing,
        ..IngestOptions::default()
    })
}

/// An ingest that wrote the files it could and left others out: the process
/// exits with [`IngestIncomplete::EXIT_CODE`].
#[derive(Debug)]
pub struct IngestIncomplete {
    /// Why each file left out failed (each reason names its file).
    pub left_out: Vec<String>,
}

impl IngestIncomplete {
    /// The exit status of an ingest that left files out.
    pub const EXIT_CODE: u8 = 3;
}

impl std::fmt::Display for IngestIncomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.left_out.len();
        write!(
            f,
            "{n} file{} could not be ingested and {} left out; everything else is in:",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        )?;
        for reason in &self.left_out {
            write!(f, "\n  {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for IngestIncomplete {}
