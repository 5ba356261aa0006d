//! The notebook window alone, for the real-input tests (`e2e::window_input`):
//! `lakebook-window LAKE NOTEBOOK` opens NOTEBOOK over LAKE exactly as
//! `lakebook --lake LAKE open NOTEBOOK` does. It is built with the tests
//! because cargo gives a test the path of its own package's binaries only.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(lake), Some(notebook)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: lakebook-window LAKE NOTEBOOK");
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let session = runtime.block_on(lakebook::gui::open_session(
        &PathBuf::from(lake),
        Some(PathBuf::from(notebook)),
    ))?;
    lakebook::gui::run_window(&runtime, session)
}
