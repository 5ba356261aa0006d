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

/// Faults 6 and 8, and the idle window (5): the dense co-occurrence graph
/// comes to rest with no disc on another; then the window stops drawing;
/// a press on a small node and a drag move that node, not the view.
#[test]
fn a_dense_graph_settles_apart_and_a_small_node_drags() -> Result<()> {
    let t = TestLake::new()?;
    let rt = tokio::runtime::Runtime::new()?;
    let csv = t.file("baskets.csv", baskets())?;
    rt.block_on(t.ingest(&[&csv], &[]))?;
    let path = notebook(
        &t,
        "graph.lakebook",
        "[[cells]]\nid = \"g\"\nkind = \"graph\"\nname = \"together\"\nfrom = \"cooccur\"\n\
         dataset = \"baskets\"\ngroup = \"customer_id\"\nitem = \"product_sku\"\n",
    )?;
    let window = Window::open(&t.lake(), &path)?;
    let probe = window.click_mark("button:run all")?;
    window.rest_pointer(&probe)?;
    let probe = window.wait("the graph to settle", Duration::from_secs(120), |p| {
        p["marks"]["graph:g"]["settled"] == true
    })?;
    let graph = &probe["marks"]["graph:g"];
    let nodes: Vec<(String, f64, f64, f64)> = graph["nodes"]
        .as_array()
        .context("nodes")?
        .iter()
        .map(|n| {
            let f = |i: usize| n[i].as_f64().unwrap_or(f64::NAN);
            (n[0].as_str().unwrap_or("").to_string(), f(1), f(2), f(3))
        })
        .collect();
    assert_eq!(nodes.len(), 60, "every product is on screen");
    assert!(
        graph["iterations"].as_u64().is_some_and(|i| i < 5000),
        "{graph}"
    );
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            let gap = (a.1 - b.1).hypot(a.2 - b.2) - a.3 - b.3;
            assert!(
                gap >= -0.01,
                "{} and {} overlap by {:.1} px",
                a.0,
                b.0,
                -gap
            );
        }
    }

    // At rest, saved and untouched, the window draws nothing.
    window.wait("the notebook saved", Duration::from_secs(10), |p| {
        p["state"]["dirty"] == false && p["state"]["busy"] == false
    })?;
    std::thread::sleep(Duration::from_millis(600));
    let before = window.read().context("probe")?["frame"].clone();
    std::thread::sleep(Duration::from_secs(2));
    let after = window.read().context("probe")?["frame"].clone();
    assert_eq!(before, after, "the idle window kept drawing");

    // The smallest node that can be dragged 160 px right and 80 px down
    // within the canvas, pressed and dragged: the node follows the pointer.
    let canvas = rect_of(&probe, "graph:g")?;
    let (label, x, y, _) = nodes
        .iter()
        .filter(|n| n.1 + 160.0 < canvas[2] - 10.0 && n.2 + 80.0 < canvas[3] - 10.0)
        .min_by(|a, b| a.3.total_cmp(&b.3))
        .context("a node with room to move")?
        .clone();
    let from = window.pixel(&probe, [x, y]);
    let to = (from.0 + 160, from.1 + 80);
    window.press_and_move(from, to)?;
    // The pressed node is the one dragged, and it comes to the pointer
    // (given a few frames: a loaded machine draws slowly).
    let off_pointer = |p: &Value| -> Option<f64> {
        let graph = &p["marks"]["graph:g"];
        if graph["dragging"] != Value::String(label.clone()) {
            return None;
        }
        let node = graph["nodes"]
            .as_array()?
            .iter()
            .find(|n| n[0] == label.as_str())?;
        let at = window.pixel(p, [node[1].as_f64()?, node[2].as_f64()?]);
        Some(f64::from(at.0 - to.0).hypot(f64::from(at.1 - to.1)))
    };
    let dragging = window.wait("the node under the pointer", Duration::from_secs(10), |p| {
        off_pointer(p).is_some_and(|off| off < 25.0)
    });
    window.release()?;
    dragging?;

    // Fault 9: Export ▸ PNG with no desktop portal asks for the path in
    // the window, and writes the picture there.
    let probe = window.read().context("probe")?;
    window.click(window.centre_of(&probe, "export:g")?)?;
    let probe = window.wait("the export menu", Duration::from_secs(10), |p| {
        rect_of(p, "export png:g").is_ok()
    })?;
    window.click(window.centre_of(&probe, "export png:g")?)?;
    let png = t.src("drawn.png");
    window.answer_prompt(&png)?;
    let started = Instant::now();
    while !png.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let bytes = std::fs::read(&png).context("the exported picture")?;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    Ok(())
}

/// Fault 10: after Shift+Enter the keyboard focus moves with the selection,
/// so the next Ctrl+Enter runs the cell being typed in.
#[test]
fn the_keyboard_focus_follows_the_selected_cell() -> Result<()> {
    let t = TestLake::new()?;
    let path = notebook(
        &t,
        "focus.lakebook",
        "[[cells]]\nid = \"a\"\nkind = \"sql\"\nsql = \"SELECT 1 AS one\"\n\n\
         [[cells]]\nid = \"b\"\nkind = \"sql\"\nsql = \"SELECT 2 AS two\"\n\n\
         [[cells]]\nid = \"c\"\nkind = \"sql\"\nsql = \"SELECT 3 AS three\"\n",
    )?;
    let window = Window::open(&t.lake(), &path)?;
    window.click_mark("editor:a")?;
    window.wait(
        "cell a selected and focused",
        Duration::from_secs(10),
        |p| p["state"]["selected"] == "a" && p["marks"]["focus"] == "a",
    )?;
    window.key("shift+Return")?;
    window.wait(
        "a run, b selected and focused",
        Duration::from_secs(30),
        |p| {
            status_of(p, "a") == "Done"
                && p["state"]["selected"] == "b"
                && p["marks"]["focus"] == "b"
        },
    )?;
    window.key("ctrl+Return")?;
    let probe = window.wait("b run", Duration::from_secs(30), |p| {
        status_of(p, "b") == "Done"
    })?;
    assert_eq!(status_of(&probe, "c"), "Idle");
    assert_eq!(probe["marks"]["focus"], "b");

    // Fault 9: Save as with no desktop portal asks for the path in the
    // window; the notebook is written there and keeps that name.
    window.key("ctrl+shift+s")?;
    let copy = t.src("copy.lakebook");
    window.answer_prompt(&copy)?;
    let probe = window.wait("the notebook saved as", Duration::from_secs(10), |p| {
        p["state"]["path"] == copy.to_string_lossy().as_ref()
    })?;
    assert_eq!(probe["state"]["dirty"], false);
    let saved = lakebook_core::notebook::Notebook::load(&copy)?;
    let ids: Vec<&str> = saved.cells.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    Ok(())
}

/// Fault 11: Run all says where it stopped and what it left unrun, and a
/// cancelled cell shows as cancelled, not as an error.
#[test]
fn run_all_says_where_it_stopped_and_a_cancel_is_no_error() -> Result<()> {
    let t = TestLake::new()?;
    let path = notebook(
        &t,
        "stops.lakebook",
        "[[cells]]\nid = \"ok\"\nkind = \"sql\"\nsql = \"SELECT 1 AS one\"\n\n\
         [[cells]]\nid = \"bad\"\nkind = \"sql\"\nsql = \"SELECT * FROM nowhere\"\n\n\
         [[cells]]\nid = \"slow\"\nkind = \"sql\"\n\
         sql = \"SELECT count(*) AS n FROM generate_series(1, 20000000000) AS g(v) WHERE v % 7 = 3\"\n\n\
         [[cells]]\nid = \"last\"\nkind = \"sql\"\nsql = \"SELECT 4 AS four\"\n",
    )?;
    let window = Window::open(&t.lake(), &path)?;
    window.click_mark("button:run all")?;
    let probe = window.wait("the run to stop", Duration::from_secs(30), |p| {
        !p["state"]["run_stopped"].is_null()
    })?;
    assert_eq!(
        probe["state"]["run_stopped"],
        serde_json::json!({ "at": "bad", "cancelled": false, "rest": ["slow", "last"] })
    );
    assert_eq!(status_of(&probe, "ok"), "Done");
    assert_eq!(status_of(&probe, "bad"), "Failed");
    assert_eq!(status_of(&probe, "last"), "Idle");

    // The slow cell, run from its button and cancelled with Esc.
    window.click(window.centre_of(&probe, "run:slow")?)?;
    window.wait("the slow cell to run", Duration::from_secs(10), |p| {
        status_of(p, "slow") == "Running"
    })?;
    window.key("Escape")?;
    let probe = window.wait("the cancel", Duration::from_secs(30), |p| {
        status_of(p, "slow") != "Running"
    })?;
    assert_eq!(status_of(&probe, "slow"), "Cancelled");
    Ok(())
}

/// Faults 1, 3 and 4: a wide result scrolls inside its cell and no cell
/// grows wider than the notebook; the wheel over a chart scrolls the page;
/// profiling a long-text column leaves the inspector a sane width.
#[test]
fn wide_results_charts_and_long_text_keep_the_layout() -> Result<()> {
    let t = TestLake::new()?;
    let rt = tokio::runtime::Runtime::new()?;
    let columns: Vec<String> = (0..30)
        .map(|c| format!("measurement_column_{c:02}"))
        .collect();
    let mut wide = columns.join(",") + "\n";
    for row in 0..40 {
        let values: Vec<String> = (0..30).map(|c| format!("{}.5", row * 31 + c)).collect();
        wide.push_str(&(values.join(",") + "\n"));
    }
    let long_text = "a long paragraph that goes on and on ".repeat(80);
    let notes = format!("id,text\n1,{long_text}\n2,short\n");
    let wide = t.file("wide.csv", wide)?;
    let notes = t.file("notes.csv", notes)?;
    rt.block_on(t.ingest(&[&wide, &notes], &[]))?;
    let path = notebook(
        &t,
        "layout.lakebook",
        "[[cells]]\nid = \"chart\"\nkind = \"sql\"\n\
         sql = \"SELECT measurement_column_00 AS x, measurement_column_01 AS y FROM wide\"\n\n\
         [[cells]]\nid = \"wide\"\nkind = \"sql\"\nsql = \"SELECT * FROM wide\"\n\n\
         [[cells]]\nid = \"after\"\nkind = \"sql\"\nsql = \"SELECT 1 AS one\"\n",
    )?;
    let window = Window::open(&t.lake(), &path)?;
    window.click_mark("button:run all")?;
    let probe = window.wait("every cell run", Duration::from_secs(60), |p| {
        ["chart", "wide", "after"]
            .iter()
            .all(|id| status_of(p, id) == "Done")
            && rect_of(p, "chart Line:chart").is_ok()
    })?;

    // 1: no cell is wider than the notebook; the last cell keeps its buttons.
    let notebook = rect_of(&probe, "notebook")?;
    for id in ["chart", "wide", "after"] {
        let cell = rect_of(&probe, &format!("cell:{id}"))?;
        assert!(
            cell[2] <= notebook[2] + 0.5,
            "cell {id} ends at {} of {}",
            cell[2],
            notebook[2]
        );
    }
    let run = rect_of(&probe, "run:after")?;
    assert!(
        run[0] >= notebook[0] && run[2] <= notebook[2],
        "{run:?} in {notebook:?}"
    );

    // 4: the wheel over a chart scrolls the page, not the chart.
    window.click(window.centre_of(&probe, "chart Line:chart")?)?;
    let probe = window.wait("the line chart", Duration::from_secs(10), |p| {
        rect_of(p, "chart:chart").is_ok()
    })?;
    let top = rect_of(&probe, "cell:chart")?[1];
    let bounds = probe["marks"]["chart:chart"]["bounds"].clone();
    assert!(bounds.is_array(), "{bounds}");
    window.move_to(window.centre_of(&probe, "chart:chart")?)?;
    window.xdotool(&["click".into(), "--repeat".into(), "3".into(), "5".into()])?;
    let probe = window.wait("the page to scroll", Duration::from_secs(10), |p| {
        rect_of(p, "cell:chart").is_ok_and(|r| r[1] < top - 20.0)
    })?;
    // ...and the chart still shows the data it showed.
    std::thread::sleep(Duration::from_millis(500));
    let probe = window.read().unwrap_or(probe);
    assert_eq!(probe["marks"]["chart:chart"]["bounds"], bounds);

    // 3: a long text column's profile leaves the inspector at most a third
    // of the window wide.
    let probe = window.read().context("probe")?;
    window.click(window.centre_of(&probe, "dataset:notes")?)?;
    let probe = window.wait("the notes columns", Duration::from_secs(10), |p| {
        rect_of(p, "column:notes.text").is_ok()
    })?;
    window.click(window.centre_of(&probe, "column:notes.text")?)?;
    std::thread::sleep(Duration::from_secs(2));
    let probe = window.wait("the inspector", Duration::from_secs(30), |p| {
        rect_of(p, "inspector").is_ok() && p["state"]["busy"] == false
    })?;
    let inspector = rect_of(&probe, "inspector")?;
    let screen = rect_of(&probe, "notebook").map(|_| probe["state"]["window"].clone())?;
    let window_width = screen[2].as_f64().unwrap_or(0.0) - screen[0].as_f64().unwrap_or(0.0);
    let width = inspector[2] - inspector[0];
    assert!(
        width <= 560.5 && width <= window_width / 3.0 + 0.5,
        "the inspector is {width} px wide in a {window_width} px window"
    );
    Ok(())
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

/// Getting results out, and getting around by keyboard: the command
/// palette runs every cell; a filter narrows a result, floats read without
/// binary noise; the result is copied and saved as CSV (through the path
/// prompt) and as a dataset, each with a notice; arrow keys move the
/// selection and B adds a cell below; Quit asks while a cell runs, and
/// "Keep working" keeps it running.
#[test]
fn results_get_out_and_the_keyboard_gets_around() -> Result<()> {
    let t = TestLake::new()?;
    let path = notebook(
        &t,
        "out.lakebook",
        "[[cells]]\nid = \"tenths\"\nkind = \"sql\"\n\
         sql = \"SELECT v, v * 0.1 AS tenth FROM (VALUES (1), (2), (3)) AS t(v) ORDER BY v\"\n\n\
         [[cells]]\nid = \"slow\"\nkind = \"sql\"\n\
         sql = \"SELECT count(*) AS n FROM generate_series(1, 20000000000) AS g(v) WHERE v % 7 = 3\"\n",
    )?;
    let mut window = Window::open(&t.lake(), &path)?;
    window.wait("the notebook", Duration::from_secs(30), |p| {
        rect_of(p, "cell:tenths").is_ok()
    })?;

    // Ctrl+K: the palette; typing narrows it; Enter runs the command.
    window.key("ctrl+k")?;
    window.wait("the palette", Duration::from_secs(10), |p| {
        rect_of(p, "palette").is_ok()
    })?;
    window.type_text("run all")?;
    window.wait("only Run all listed", Duration::from_secs(10), |p| {
        rect_of(p, "palette:Run all cells").is_ok() && rect_of(p, "palette:Quit").is_err()
    })?;
    window.key("Return")?;
    window.wait(
        "the first cell run, the second running",
        Duration::from_secs(60),
        |p| {
            status_of(p, "tenths") == "Done"
                && status_of(p, "slow") == "Running"
                && rect_of(p, "palette").is_err()
        },
    )?;

    // The filter keeps the rows that contain its text; 3 × 0.1 reads 0.3.
    window.click_mark("filter:tenths")?;
    window.type_text("3")?;
    let probe = window.wait("one row shown", Duration::from_secs(10), |p| {
        p["marks"]["table:tenths"]["shown"] == 1
    })?;
    assert_eq!(
        probe["marks"]["table:tenths"]["first"],
        serde_json::json!(["3", "0.3"])
    );
    window.click_mark("copy:tenths")?;
    window.click_mark("copy TSV:tenths")?;
    window.wait_for_notice("copied 1 row as TSV")?;

    // Rows picked by their numbers: a click, a Shift+click for the range,
    // a Ctrl+click to leave one out; Copy copies the picked rows.
    window.click_mark("filter:tenths")?;
    window.key("ctrl+a")?;
    window.key("BackSpace")?;
    window.wait("every row shown", Duration::from_secs(10), |p| {
        p["marks"]["table:tenths"]["shown"] == 3
    })?;
    window.click_mark("row:tenths:0")?;
    window.xdotool(&["keydown".into(), "shift".into()])?;
    window.click_mark("row:tenths:2")?;
    window.xdotool(&["keyup".into(), "shift".into()])?;
    window.wait("three rows picked", Duration::from_secs(10), |p| {
        p["marks"]["table:tenths"]["picked"] == 3
    })?;
    window.xdotool(&["keydown".into(), "ctrl".into()])?;
    window.click_mark("row:tenths:1")?;
    window.xdotool(&["keyup".into(), "ctrl".into()])?;
    window.wait("two rows picked", Duration::from_secs(10), |p| {
        p["marks"]["table:tenths"]["picked"] == 2
    })?;
    window.click_mark("copy:tenths")?;
    window.click_mark("copy Markdown:tenths")?;
    window.wait_for_notice("copied 2 rows as Markdown")?;

    // Saved whole (not filtered) and exact, through the path prompt.
    let csv = t.src("tenths.csv");
    window.click_mark("save:tenths")?;
    window.click_mark("save csv:tenths")?;
    window.answer_prompt(&csv)?;
    window.wait_for_notice(&format!("saved 3 rows to {}", csv.display()))?;
    assert_eq!(
        std::fs::read_to_string(&csv)?,
        "v,tenth\n1,0.1\n2,0.2\n3,0.30000000000000004\n"
    );
    window.click_mark("save:tenths")?;
    window.click_mark("dataset name:tenths")?;
    window.type_text("kept")?;
    window.key("Return")?;
    window.wait_for_notice("saved 3 rows as the dataset kept")?;
    window.wait("kept in the lake browser", Duration::from_secs(10), |p| {
        rect_of(p, "dataset:kept").is_ok()
    })?;
    let rt = tokio::runtime::Runtime::new()?;
    assert_eq!(
        rt.block_on(t.scalar("SELECT sum(v) FROM kept"))?.as_i64(),
        Some(6)
    );

    // The arrow keys move the selection; B adds a SQL cell below it.
    let probe = window.read().context("probe")?;
    window.rest_pointer(&probe)?;
    window.wait("tenths selected", Duration::from_secs(10), |p| {
        p["state"]["selected"] == "tenths"
    })?;
    window.key("Down")?;
    window.wait("slow selected", Duration::from_secs(10), |p| {
        p["state"]["selected"] == "slow"
    })?;
    window.key("b")?;
    let probe = window.wait("a cell added below", Duration::from_secs(10), |p| {
        p["state"]["cells"].as_array().is_some_and(|c| c.len() == 3)
    })?;
    let ids: Vec<&str> = probe["state"]["cells"]
        .as_array()
        .context("cells")?
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["tenths", "slow", "c3"]);
    assert_eq!(probe["state"]["selected"], "c3");
    // Esc leaves the new cell's editor; Ctrl+Z then undoes the added cell,
    // Ctrl+Shift+Z does it again.
    let count = |p: &Value| p["state"]["cells"].as_array().map_or(0, Vec::len);
    window.key("Escape")?;
    window.key("ctrl+z")?;
    window.wait("the added cell undone", Duration::from_secs(10), |p| {
        count(p) == 2
    })?;
    window.key("ctrl+shift+z")?;
    window.wait("the added cell redone", Duration::from_secs(10), |p| {
        count(p) == 3
    })?;

    // Quit while a cell runs asks first; keep working, then quit anyway.
    window.key("ctrl+q")?;
    window.click_mark("keep working")?;
    let probe = window.wait("the question gone", Duration::from_secs(10), |p| {
        rect_of(p, "keep working").is_err()
    })?;
    assert_eq!(status_of(&probe, "slow"), "Running");
    window.key("ctrl+q")?;
    window.click_mark("quit anyway")?;
    let status = window.wait_exit(Duration::from_secs(30))?;
    assert!(status.success(), "the window ended with {status}");
    let saved = lakebook_core::notebook::Notebook::load(&path)?;
    let ids: Vec<&str> = saved.cells.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["tenths", "slow", "c3"]);
    Ok(())
}

/// The lake browser: the filter finds a dataset by a column's name; a
/// dataset is renamed from its menu, removed to the trash, and brought
/// back; a stored graph's datasets are listed under the graph.
#[test]
fn the_lake_browser_finds_renames_removes_and_brings_back() -> Result<()> {
    let t = TestLake::new()?;
    let rt = tokio::runtime::Runtime::new()?;
    let people = t.file("people.csv", "person_id,name\n1,ann\n2,bob\n")?;
    let orders = t.file("orders.csv", "order_id,amount\n7,1.5\n")?;
    rt.block_on(t.ingest(&[&people, &orders], &[]))?;
    let path = notebook(
        &t,
        "lake.lakebook",
        "[[cells]]\nid = \"g\"\nkind = \"graph\"\nname = \"schema\"\nfrom = \"lake\"\n",
    )?;
    rt.block_on(t.run(&["run", &path.to_string_lossy()]))?;
    let window = Window::open(&t.lake(), &path)?;
    let probe = window.wait("the lake listed", Duration::from_secs(30), |p| {
        rect_of(p, "dataset:people").is_ok() && rect_of(p, "lake filter").is_ok()
    })?;
    // The graph's datasets sit under the graph, closed.
    assert!(rect_of(&probe, "dataset:schema_nodes").is_err());

    window.click_mark("lake filter")?;
    window.type_text("amount")?;
    window.wait(
        "only orders, opened at the column",
        Duration::from_secs(10),
        |p| {
            rect_of(p, "dataset:orders").is_ok()
                && rect_of(p, "column:orders.amount").is_ok()
                && rect_of(p, "dataset:people").is_err()
        },
    )?;
    window.key("ctrl+a")?;
    window.key("BackSpace")?;

    let probe = window.wait("people listed again", Duration::from_secs(10), |p| {
        rect_of(p, "dataset:people").is_ok()
    })?;
    window.right_click(window.centre_of(&probe, "dataset:people")?)?;
    window.click_mark("menu:Rename…")?;
    window.wait("the rename field", Duration::from_secs(10), |p| {
        rect_of(p, "rename").is_ok()
    })?;
    window.key("ctrl+a")?;
    window.type_text("persons")?;
    window.key("Return")?;
    window.wait_for_notice("renamed people to persons")?;
    let probe = window.wait("persons listed", Duration::from_secs(10), |p| {
        rect_of(p, "dataset:persons").is_ok() && rect_of(p, "dataset:people").is_err()
    })?;
    assert_eq!(
        rt.block_on(t.scalar("SELECT count(*) FROM persons"))?
            .as_i64(),
        Some(2)
    );

    window.right_click(window.centre_of(&probe, "dataset:persons")?)?;
    window.click_mark("menu:Remove (to the trash)")?;
    window.wait_for_notice("removed persons to the lake's trash (Bring back restores it)")?;
    window.wait("persons gone", Duration::from_secs(10), |p| {
        rect_of(p, "dataset:persons").is_err()
    })?;
    assert!(
        rt.block_on(t.scalar("SELECT count(*) FROM persons"))
            .is_err()
    );
    window.click_mark("bring back")?;
    window.wait_for_notice("brought persons back")?;
    window.wait("persons listed again", Duration::from_secs(10), |p| {
        rect_of(p, "dataset:persons").is_ok()
    })?;
    assert_eq!(
        rt.block_on(t.scalar("SELECT count(*) FROM persons"))?
            .as_i64(),
        Some(2)
    );
    Ok(())
}
