//! The real window under Xvfb, driven with real input events (xdotool), as
//! a person's mouse and keyboard drive it: through X, winit and egui's own
//! hit-testing, which kittest's AccessKit clicks skip. The window reports
//! what it shows through its probe (`LAKEBOOK_PROBE`): its cells and their
//! status, the selection and keyboard focus, and where its buttons, cells
//! and graph nodes are on screen, so a test finds what to click, clicks
//! it, and reads what happened. Each check here fails without the fix it
//! guards (the window issue's numbered faults).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::support::TestLake;

/// The window alone (the tests crate's `lakebook-window` binary).
const WINDOW: &str = env!("CARGO_BIN_EXE_lakebook-window");

/// A virtual X display of its own for one test, stopped on drop.
struct Display {
    number: u32,
    server: Child,
}

impl Display {
    fn start() -> Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        for _ in 0..50 {
            let number = 300 + (std::process::id() % 300) + NEXT.fetch_add(1, Ordering::Relaxed);
            if Path::new(&format!("/tmp/.X{number}-lock")).exists() {
                continue;
            }
            let server = Command::new("Xvfb")
                .arg(format!(":{number}"))
                .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting Xvfb (scripts/setup.sh installs it)")?;
            let mut display = Display { number, server };
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if socket.exists() {
                    return Ok(display);
                }
                if display.server.try_wait()?.is_some() {
                    break; // another server took the number first
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = display.server.kill();
        }
        bail!("no X display could be started")
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// The window on its own display, with its probe.
struct Window {
    app: Child,
    probe: PathBuf,
    log: PathBuf,
    // Dropped after the app: the display outlives the window on it.
    display: Display,
    _home: tempfile::TempDir,
}

impl Drop for Window {
    fn drop(&mut self) {
        let _ = self.app.kill();
        let _ = self.app.wait();
    }
}

/// A point on screen, in pixels.
type Pixel = (i32, i32);

impl Window {
    /// Opens `notebook` over `lake` and waits for its first frame. No
    /// desktop services: no D-Bus, no portal, settings in a folder of its own.
    fn open(lake: &Path, notebook: &Path) -> Result<Self> {
        let display = Display::start()?;
        let home = tempfile::tempdir()?;
        let probe = home.path().join("probe.json");
        let log = home.path().join("window.log");
        let app = Command::new(WINDOW)
            .arg(lake)
            .arg(notebook)
            .env("DISPLAY", format!(":{}", display.number))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_RUNTIME_DIR", home.path())
            .env("HOME", home.path())
            .env("LAKEBOOK_PROBE", &probe)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdout(File::create(&log)?)
            .stderr(File::create(&log)?)
            .spawn()
            .context("starting the window")?;
        let window = Window {
            app,
            probe,
            log,
            display,
            _home: home,
        };
        window.wait("the first frame", Duration::from_secs(60), |p| {
            !p["state"]["window"].is_null()
        })?;
        // There is no window manager to give the window the keyboard focus
        // (winit takes keys only while it has it): give it as one would.
        let found = Command::new("xdotool")
            .args(["search", "--name", "Lakebook"])
            .env("DISPLAY", format!(":{}", window.display.number))
            .output()?;
        let id = String::from_utf8_lossy(&found.stdout)
            .lines()
            .next()
            .context("the window is not on the display")?
            .to_string();
        // Until the window is mapped X refuses to focus it: try a few times.
        let mut focused = Err(anyhow::anyhow!("not tried"));
        for _ in 0..20 {
            focused = window.xdotool(&["windowfocus".into(), id.clone()]);
            if focused.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        focused?;
        Ok(window)
    }

    /// The probe as last written.
    fn read(&self) -> Option<Value> {
        let text = std::fs::read_to_string(&self.probe).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Waits until the probe satisfies `done`, and returns it.
    fn wait(&self, what: &str, timeout: Duration, done: impl Fn(&Value) -> bool) -> Result<Value> {
        let started = Instant::now();
        let mut last = None;
        while started.elapsed() < timeout {
            if let Some(probe) = self.read() {
                if done(&probe) {
                    return Ok(probe);
                }
                last = Some(probe);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let (state, marks) = last.map_or_else(Default::default, |mut p| {
            // The marks without the graphs' node lists, which are long.
            if let Some(marks) = p["marks"].as_object_mut() {
                for mark in marks.values_mut() {
                    if let Some(m) = mark.as_object_mut() {
                        m.remove("nodes");
                    }
                }
            }
            (p["state"].to_string(), p["marks"].to_string())
        });
        bail!(
            "timed out waiting for {what}\nwindow state: {state}\nmarks: {marks}\nwindow log:\n{log}"
        )
    }

    /// The screen pixel of a point in the window's coordinates.
    fn pixel(&self, probe: &Value, point: [f64; 2]) -> Pixel {
        let ppp = probe["state"]["pixels_per_point"].as_f64().unwrap_or(1.0);
        let origin = &probe["state"]["window"];
        let (x0, y0) = (
            origin[0].as_f64().unwrap_or(0.0),
            origin[1].as_f64().unwrap_or(0.0),
        );
        (
            ((x0 + point[0]) * ppp).round() as i32,
            ((y0 + point[1]) * ppp).round() as i32,
        )
    }

    /// The centre of the rectangle marked `name` this frame.
    fn centre_of(&self, probe: &Value, name: &str) -> Result<Pixel> {
        let r = rect_of(probe, name)?;
        Ok(self.pixel(probe, [(r[0] + r[2]) / 2.0, (r[1] + r[3]) / 2.0]))
    }

    fn xdotool(&self, args: &[String]) -> Result<()> {
        let status = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", format!(":{}", self.display.number))
            .status()
            .context("running xdotool (scripts/setup.sh installs it)")?;
        if !status.success() {
            bail!("xdotool {args:?} failed");
        }
        // A frame or two to see it.
        std::thread::sleep(Duration::from_millis(120));
        Ok(())
    }

    fn move_to(&self, (x, y): Pixel) -> Result<()> {
        self.xdotool(&["mousemove".into(), x.to_string(), y.to_string()])
    }

    fn click(&self, at: Pixel) -> Result<()> {
        self.move_to(at)?;
        self.xdotool(&["mousedown".into(), "1".into()])?;
        self.xdotool(&["mouseup".into(), "1".into()])
    }

    /// Presses at `from` and moves to `to` in four steps (a brisk drag:
    /// the first step already leaves a small node's disc), keeping the
    /// button down.
    fn press_and_move(&self, from: Pixel, to: Pixel) -> Result<()> {
        self.move_to(from)?;
        self.xdotool(&["mousedown".into(), "1".into()])?;
        for step in 1..=4 {
            let x = from.0 + (to.0 - from.0) * step / 4;
            let y = from.1 + (to.1 - from.1) * step / 4;
            self.move_to((x, y))?;
        }
        Ok(())
    }

    fn release(&self) -> Result<()> {
        self.xdotool(&["mouseup".into(), "1".into()])
    }

    fn key(&self, keys: &str) -> Result<()> {
        self.xdotool(&["key".into(), keys.into()])
    }

    /// Waits for the window's path prompt and types `path` into it.
    fn answer_prompt(&self, path: &Path) -> Result<()> {
        self.wait("the path prompt", Duration::from_secs(10), |p| {
            rect_of(p, "prompt").is_ok()
        })?;
        self.key("ctrl+a")?;
        let text = path.to_string_lossy().into_owned();
        self.xdotool(&["type".into(), "--delay".into(), "20".into(), text])?;
        self.key("Return")?;
        self.wait("the prompt to close", Duration::from_secs(10), |p| {
            rect_of(p, "prompt").is_err()
        })?;
        Ok(())
    }

    /// A pixel of the window where nothing reacts to hovering.
    fn rest_pointer(&self, probe: &Value) -> Result<()> {
        let notebook = rect_of(probe, "notebook")?;
        self.move_to(self.pixel(probe, [notebook[2] - 4.0, notebook[3] - 4.0]))
    }
}

/// The rectangle marked `name` in a probe: `[left, top, right, bottom]`.
fn rect_of(probe: &Value, name: &str) -> Result<[f64; 4]> {
    let r = &probe["marks"][name];
    let r = r.get("rect").unwrap_or(r);
    let v: Vec<f64> = r
        .as_array()
        .with_context(|| format!("nothing marked '{name}' on screen"))?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    match v[..] {
        [l, t, rt, b] => Ok([l, t, rt, b]),
        _ => bail!("'{name}' is not a rectangle: {r}"),
    }
}

/// A cell's status in a probe ("Idle", "Running", "Done", "Failed", "Cancelled").
fn status_of(probe: &Value, id: &str) -> String {
    probe["state"]["cells"]
        .as_array()
        .and_then(|cells| cells.iter().find(|c| c["id"] == id))
        .and_then(|c| c["status"].as_str())
        .unwrap_or("missing")
        .to_string()
}

/// A notebook file over `lake` with `cells` (TOML tables, without the header).
fn notebook(t: &TestLake, name: &str, cells: &str) -> Result<PathBuf> {
    let path = t.src(name);
    let header = format!(
        "format = 1\ntitle = \"input\"\nlake = \"{}\"\n",
        t.lake().display()
    );
    std::fs::write(&path, format!("{header}\n{cells}"))?;
    Ok(path)
}

/// 200 customers' baskets of 15 of 60 products: nearly every pair of
/// products shares a basket, so their co-occurrence graph is as dense as
/// the window's worst case (60 nodes, about 1,770 edges).
fn baskets() -> String {
    let mut csv = String::from("customer_id,product_sku\n");
    let mut state = 12345u64;
    for customer in 0..200 {
        let mut chosen = std::collections::BTreeSet::new();
        while chosen.len() < 15 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            chosen.insert((state >> 33) % 60);
        }
        for sku in chosen {
            csv.push_str(&format!("c{customer},SKU-{sku:02}\n"));
        }
    }
    csv
}

/// The texts of the notices shown now.
fn toasts(probe: &Value) -> Vec<String> {
    probe["state"]["toasts"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Window {
    fn right_click(&self, at: Pixel) -> Result<()> {
        self.move_to(at)?;
        self.xdotool(&["mousedown".into(), "3".into()])?;
        self.xdotool(&["mouseup".into(), "3".into()])
    }

    fn type_text(&self, text: &str) -> Result<()> {
        self.xdotool(&["type".into(), "--delay".into(), "20".into(), text.into()])
    }

    /// Clicks what `name` marks once it is on screen.
    fn click_mark(&self, name: &str) -> Result<Value> {
        let probe = self.wait(
            &format!("'{name}' on screen"),
            Duration::from_secs(30),
            |p| rect_of(p, name).is_ok(),
        )?;
        self.click(self.centre_of(&probe, name)?)?;
        Ok(probe)
    }

    /// Waits until a notice says exactly `text`.
    fn wait_for_notice(&self, text: &str) -> Result<Value> {
        self.wait(
            &format!("the notice '{text}'"),
            Duration::from_secs(30),
            |p| toasts(p).iter().any(|t| t == text),
        )
    }

    /// Waits for the window's process to end.
    fn wait_exit(&mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.app.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the window is still open after {timeout:?}")
    }
}

mod analyst;
mod faults;
