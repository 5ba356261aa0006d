//! The command line explains itself: every command and option has help text
//! of its own.

use clap::CommandFactory;
use lakebook::cli::Cli;

/// Commands (by path) without an about, and options without help.
fn undocumented(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if id == "help" || id == "version" {
            continue;
        }
        if arg
            .get_help()
            .is_none_or(|h| h.to_string().trim().is_empty())
        {
            missing.push(format!("{path} --{id}"));
        }
    }
    for sub in command.get_subcommands() {
        let sub_path = format!("{path} {}", sub.get_name());
        if sub.get_name() == "help" {
            continue;
        }
        if sub
            .get_about()
            .is_none_or(|a| a.to_string().trim().is_empty())
        {
            missing.push(sub_path.clone());
        }
        undocumented(sub, &sub_path, missing);
    }
}

#[test]
fn every_command_and_option_has_help() {
    let command = Cli::command();
    command.clone().debug_assert();
    let mut missing = Vec::new();
    undocumented(&command, "lakebook", &mut missing);
    assert!(missing.is_empty(), "no help text: {missing:?}");
}

#[test]
fn each_eval_command_describes_itself_alone() {
    // A doc comment once slid onto the wrong variant and `eval communities`
    // described the match suite.
    let command = Cli::command();
    let eval = command.find_subcommand("eval").expect("an eval command");
    let about = |name: &str| {
        eval.find_subcommand(name)
            .and_then(|c| c.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default()
    };
    assert!(about("communities").starts_with("Whole-graph communities"));
    assert!(!about("communities").contains("pair folder"));
    assert!(about("match-suite").contains("pair folder"));
}

/// An error prints with each cause once: a cause the message already shows
/// (`file: what the OS said`) is not repeated, one it does not is appended.
#[test]
fn errors_print_each_cause_once() {
    let disk_full = std::io::Error::other("disk full");
    let lake = lakebook_core::LakeError::Io {
        path: "/lake/lake.json".into(),
        source: disk_full,
    };
    let error = anyhow::Error::new(lake).context("saving the catalog");
    assert_eq!(
        lakebook::cli::error_text(&error),
        "saving the catalog: /lake/lake.json: disk full"
    );
    let bare = anyhow::anyhow!("no such table").context("running cell 3");
    assert_eq!(
        lakebook::cli::error_text(&bare),
        "running cell 3: no such table"
    );
}
