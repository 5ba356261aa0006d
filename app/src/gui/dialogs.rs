//! File dialogs: the desktop's own dialog when it has one (rfd: the XDG
//! desktop portal, or zenity), and a path prompt inside the window when it
//! has none or the dialog could not open. Nothing fails silently: a desktop
//! without a portal gets the prompt, with a line saying why.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What kind of path is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choose {
    /// One existing file.
    File,
    /// One or more existing files.
    Files,
    /// One or more existing folders.
    Folders,
    /// A file to write (it may exist).
    SaveFile,
}

/// A dialog to show.
#[derive(Debug, Clone)]
pub struct FileRequest {
    /// The dialog's title ("Save notebook as").
    pub title: String,
    /// What is chosen.
    pub choose: Choose,
    /// Files shown: a description and extensions without the dot.
    pub filter: Option<(String, Vec<String>)>,
    /// The folder it opens in.
    pub folder: PathBuf,
    /// The name suggested when saving.
    pub file_name: Option<String>,
}

/// How a dialog ended.
#[derive(Debug)]
pub enum Chosen {
    /// The user chose these.
    Paths(Vec<PathBuf>),
    /// The user closed it without choosing.
    Cancelled,
    /// No dialog could be shown; the window asks for a path itself.
    Unavailable(String),
}

/// A native dialog that closes sooner than this without a choice did not
/// open at all (no person cancels that fast): rfd reports a dialog that
/// failed to open as a cancel.
const TOO_FAST_TO_BE_A_PERSON: Duration = Duration::from_millis(400);

/// Why this desktop can show no native dialog, if it cannot: on Linux rfd
/// needs the desktop portal (over the D-Bus session bus) or zenity.
pub fn native_unavailable() -> Option<String> {
    if !cfg!(any(target_os = "linux", target_os = "freebsd")) {
        return None;
    }
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| Path::new(&dir).join("bus").exists());
    let zenity = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join("zenity").is_file()));
    (!bus && !zenity).then(|| {
        "this desktop has no file dialog (no desktop portal on a D-Bus session, \
         and no zenity)"
            .to_string()
    })
}

/// Shows `request` as the desktop's own dialog, awaited (run it on the
/// runtime, never on the UI thread).
pub async fn choose_native(request: FileRequest) -> Chosen {
    if let Some(why) = native_unavailable() {
        return Chosen::Unavailable(why);
    }
    let mut dialog = rfd::AsyncFileDialog::new()
        .set_title(&request.title)
        .set_directory(&request.folder);
    if let Some((name, extensions)) = &request.filter {
        dialog = dialog.add_filter(name, extensions);
    }
    if let Some(name) = &request.file_name {
        dialog = dialog.set_file_name(name);
    }
    let opened = Instant::now();
    let handles: Vec<rfd::FileHandle> = match request.choose {
        Choose::File => dialog.pick_file().await.into_iter().collect(),
        Choose::Files => dialog.pick_files().await.unwrap_or_default(),
        Choose::Folders => dialog.pick_folders().await.unwrap_or_default(),
        Choose::SaveFile => dialog.save_file().await.into_iter().collect(),
    };
    if !handles.is_empty() {
        return Chosen::Paths(handles.iter().map(|h| h.path().to_path_buf()).collect());
    }
    if opened.elapsed() < TOO_FAST_TO_BE_A_PERSON {
        return Chosen::Unavailable("the desktop's file dialog did not open".to_string());
    }
    Chosen::Cancelled
}

/// How the path prompt stands after a frame.
pub enum Prompted {
    /// Still open.
    Open,
    /// The user confirmed these paths (checked).
    Chosen(Vec<PathBuf>),
    /// The user closed it.
    Cancelled,
}

/// A path typed in the window: the fallback when no dialog can be shown.
pub struct PathPrompt {
    request: FileRequest,
    /// Why the prompt is shown instead of a dialog.
    why: String,
    text: String,
    error: Option<String>,
    focus: bool,
}

impl PathPrompt {
    /// A prompt for `request`, shown because of `why`; it starts with the
    /// folder and suggested name filled in.
    pub fn new(request: FileRequest, why: String) -> Self {
        let start = match &request.file_name {
            Some(name) => request.folder.join(name),
            None => request.folder.join(""),
        };
        Self {
            text: start.to_string_lossy().into_owned(),
            request,
            why,
            error: None,
            focus: true,
        }
    }

    /// Draws the prompt as a modal window. Enter confirms, Esc cancels.
    pub fn ui(&mut self, ctx: &egui::Context) -> Prompted {
        let mut outcome = Prompted::Open;
        let modal = egui::Modal::new(egui::Id::NULL.with("path-prompt")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading(&self.request.title);
            ui.label(format!(
                "{}: type the path instead.",
                capitalised(&self.why)
            ));
            if matches!(self.request.choose, Choose::Files | Choose::Folders) {
                ui.weak("Several paths: separate them with ';'.");
            }
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.text)
                    .desired_width(f32::INFINITY)
                    .hint_text("/path/to/file"),
            );
            super::probe::mark("prompt", || super::probe::rect(field.rect));
            if std::mem::take(&mut self.focus) {
                field.request_focus();
            }
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if let Some(error) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            ui.horizontal(|ui| {
                let ok = ui.button("OK").clicked();
                if ui.button("Cancel").clicked() {
                    outcome = Prompted::Cancelled;
                }
                if ok || entered {
                    match self.check() {
                        Ok(paths) => outcome = Prompted::Chosen(paths),
                        Err(e) => {
                            self.error = Some(e);
                            self.focus = true;
                        }
                    }
                }
            });
        });
        if modal.should_close() && matches!(outcome, Prompted::Open) {
            outcome = Prompted::Cancelled;
        }
        outcome
    }

    /// The typed paths, if they are what the request asks for.
    fn check(&self) -> Result<Vec<PathBuf>, String> {
        let paths = parse_paths(&self.text, self.request.choose);
        if paths.is_empty() {
            return Err("type a path".to_string());
        }
        for path in &paths {
            check_path(path, self.request.choose)?;
        }
        Ok(paths)
    }
}

/// The paths typed: one, or several separated by ';' where several are asked for.
fn parse_paths(text: &str, choose: Choose) -> Vec<PathBuf> {
    let parts: Vec<&str> = match choose {
        Choose::Files | Choose::Folders => text.split(';').collect(),
        Choose::File | Choose::SaveFile => vec![text],
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Whether `path` can be used as asked: existing files and folders to
/// open, and a file in an existing folder to save.
fn check_path(path: &Path, choose: Choose) -> Result<(), String> {
    let shown = path.display();
    match choose {
        Choose::File | Choose::Files if !path.is_file() => Err(format!("no file at {shown}")),
        Choose::Folders if !path.is_dir() => Err(format!("no folder at {shown}")),
        Choose::SaveFile if path.is_dir() => Err(format!("{shown} is a folder: add a file name")),
        Choose::SaveFile => match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) if !parent.is_dir() => {
                Err(format!("the folder {} does not exist", parent.display()))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
