//! `lakebook`: the entry point. Owns the one tokio runtime; opens the notebook
//! window (no command, `open`, `demo`) or runs a command-line command.

use std::path::{Path, PathBuf};

use clap::Parser;
use lakebook::cli::{BenchCommand, Cli, Command};

fn main() -> std::process::ExitCode {
    let _ = lakebook::gui::LAUNCHED.set(std::time::Instant::now());
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = match &cli.command {
        None => open_window(&runtime, &cli.lake, None),
        Some(Command::Open { notebook }) => open_window(&runtime, &cli.lake, notebook.clone()),
        Some(Command::Demo { no_gui: false }) => {
            let lake = cli.lake.clone();
            run_command(&runtime, cli)
                .and_then(|()| demo_notebook(&lake))
                .and_then(|nb| open_window(&runtime, &lake, Some(nb)))
        }
        Some(Command::Bench(BenchCommand::Frames {
            rows,
            ingest_rows,
            work,
        })) => frames(&runtime, *rows, *ingest_rows, work.clone()),
        Some(_) => run_command(&runtime, cli),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader went away (`lakebook sql … | head`): nothing to say.
        Err(e) if closed_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is::<lakebook::cli::IngestIncomplete>() => {
            eprintln!("error: {}", lakebook::cli::error_text(&e));
            std::process::ExitCode::from(lakebook::cli::IngestIncomplete::EXIT_CODE)
        }
        Err(e) => {
            eprintln!("error: {}", lakebook::cli::error_text(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether `error` comes from writing to a pipe whose reader has closed it.
fn closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run_command(runtime: &tokio::runtime::Runtime, cli: Cli) -> anyhow::Result<()> {
    let job = lakebook_core::Job::new();
    runtime.block_on(async {
        let cancel = job.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\ncancelling… (press Ctrl-C again to quit at once)");
                cancel.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        let mut stdout = std::io::stdout();
        lakebook::cli::run(cli, &mut stdout, &job, true).await
    })
}

fn open_window(
    runtime: &tokio::runtime::Runtime,
    lake: &Path,
    notebook: Option<PathBuf>,
) -> anyhow::Result<()> {
    let session = runtime.block_on(lakebook::gui::open_session(lake, notebook))?;
    lakebook::gui::run_window(runtime, session)
}

/// The demo notebook beside the demo lake (`LAKE/notebooks/demo.lakebook`),
/// copied from the bundled one the first time.
fn demo_notebook(lake: &Path) -> anyhow::Result<PathBuf> {
    let target = lake.join("notebooks").join("demo.lakebook");
    if !target.exists() {
        let assets = lakebook::cli::demo_assets();
        let mut notebook = lakebook_core::notebook::Notebook::load(&assets.join("demo.lakebook"))?;
        notebook.lake = Some("..".to_string());
        // An ingest cell too, so the demo shows every kind of cell.
        let mut params = toml::Table::new();
        let csv = assets.join("tables").join("orders_2024_q1.csv");
        params.insert(
            "paths".into(),
            toml::Value::Array(vec![csv.to_string_lossy().into_owned().into()]),
        );
        params.insert("name".into(), "orders_q1_again".into());
        params.insert("mode".into(), "overwrite".into());
        notebook.push("ingest", params);
        notebook.save(&target)?;
    }
    Ok(target)
}

fn frames(
    runtime: &tokio::runtime::Runtime,
    rows: usize,
    ingest_rows: usize,
    work: Option<PathBuf>,
) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let work = work.unwrap_or_else(|| temp.path().to_path_buf());
    let report = lakebook::gui::bench_frames(runtime, &work, rows, ingest_rows)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
