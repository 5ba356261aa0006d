//! The notebook window, driven through egui_kittest: the real app, the real
//! engine underneath, no GPU.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use lakebook::gui::{Camera, ChartKind, Command, LakebookApp, Settings, chart_caveat};
use lakebook_core::notebook::{Notebook, Runner};

use crate::support::{TestLake, demo_assets};

/// The app over `lake`, showing the notebook at `path`, in a test harness.
fn open_app(
    rt: &tokio::runtime::Runtime,
    lake: &Path,
    path: &Path,
) -> Result<Harness<'static, LakebookApp>> {
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let runner = rt
        .block_on(Runner::open(lake, &base, None))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    open_app_with(rt, runner, path)
}

/// The app with a runner of the test's making (e.g. with extra cell kinds).
pub(crate) fn open_app_with(
    rt: &tokio::runtime::Runtime,
    runner: Runner,
    path: &Path,
) -> Result<Harness<'static, LakebookApp>> {
    let notebook = Notebook::load(path)?;
    let app = LakebookApp::new(
        &egui::Context::default(),
        rt.handle().clone(),
        Arc::new(runner),
        notebook,
        Some(path.to_path_buf()),
        Settings::in_memory(),
    );
    let harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_ui_state(|ui, app: &mut LakebookApp| app.frame_ui(ui), app);
    Ok(harness)
}

/// Steps the UI until `done` holds (background work finishes on its own time).
pub(crate) fn step_until(
    harness: &mut Harness<'static, LakebookApp>,
    what: &str,
    done: impl Fn(&Harness<'static, LakebookApp>) -> bool,
) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        harness.step();
        if done(harness) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("timed out waiting for {what}")
}

/// A node's text (labels keep theirs as the value, in AccessKit).
fn text_of(node: &egui_kittest::Node<'_>) -> Option<String> {
    let n = node.accesskit_node();
    n.value().or_else(|| n.label())
}

pub(crate) fn shows(harness: &Harness<'static, LakebookApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

#[test]
fn the_demo_notebook_runs_in_the_window() -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let t = TestLake::new()?;
    rt.block_on(t.run(&["demo"]))?;
    let path = t.src("demo.lakebook");
    std::fs::copy(demo_assets().join("demo.lakebook"), &path)?;
    let mut h = open_app(&rt, &t.lake(), &path)?;
    step_until(&mut h, "the lake browser", |h| shows(h, "customers"))?;

    h.get_by_label("▶▶ Run all").click();
    step_until(&mut h, "the top product", |h| shows(h, "Ridgeline 1P Tent"))?;
    step_until(&mut h, "every cell", |h| !h.state().busy())?;
    assert!(shows(&h, "Helsinki"), "the cities cell shows its table");
    assert!(
        shows(&h, "comets-and-their-tails.pdf"),
        "the search cell shows hits"
    );
    assert!(shows(&h, "A tour of the demo lake"), "markdown is rendered");
    assert!(!shows(&h, "Error:"), "no cell failed");
    Ok(())
}

fn small_lake(t: &TestLake, rt: &tokio::runtime::Runtime) -> Result<std::path::PathBuf> {
    let csv = t.file("cities.csv", "city,people\nLisbon,545000\nPorto,232000\n")?;
    rt.block_on(t.ingest(&[&csv], &[]))?;
    let path = t.src("work.lakebook");
    std::fs::write(
        &path,
        "format = 1\ntitle = \"Work\"\n\n[[cells]]\nid = \"c1\"\nkind = \"sql\"\nsql = \"SELECT nope FROM cities\"\n",
    )?;
    Ok(path)
}

#[test]
fn a_failing_cell_shows_its_error_and_cells_can_be_added_moved_and_deleted() -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let t = TestLake::new()?;
    let path = small_lake(&t, &rt)?;
    let mut h = open_app(&rt, &t.lake(), &path)?;

    h.state_mut().send(Command::Run("c1".into()));
    step_until(&mut h, "the error", |h| shows(h, "Error:"))?;
    assert!(shows(&h, "nope"), "the error names the bad column");

    h.get_by_label("➕ SQL query").click();
    h.run_steps(3);
    let ids = |h: &Harness<'static, LakebookApp>| -> Vec<String> {
        h.state()
            .notebook()
            .cells
            .iter()
            .map(|c| c.id.clone())
            .collect()
    };
    assert_eq!(ids(&h).len(), 2);
    let second = ids(&h)[1].clone();

    // Move the new cell up: it becomes the first.
    let ups = h.get_all_by_label("⬆").collect::<Vec<_>>();
    assert_eq!(ups.len(), 2, "one move-up button per cell");
    ups[1].click_accesskit();
    h.run_steps(3);
    assert_eq!(ids(&h)[0], second);

    // Delete it; Ctrl+Z brings it back.
    let delete = h.get_all_by_label("🗑").next().context("a delete button")?;
    delete.click_accesskit();
    h.run_steps(3);
    assert_eq!(ids(&h), vec!["c1".to_string()]);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(3);
    assert_eq!(ids(&h).len(), 2);

    // The inspector lists a dataset's versions, and a column's profile.
    h.state_mut().send(Command::Inspect {
        dataset: "cities".into(),
        column: None,
    });
    step_until(&mut h, "the versions", |h| shows(h, "v1 (latest)"))?;
    h.state_mut().send(Command::Inspect {
        dataset: "cities".into(),
        column: Some("people".into()),
    });
    step_until(&mut h, "the profile", |h| shows(h, "545000"))?;

    // Float and boolean columns profile too (core's profile, every Arrow type).
    let places = t.file(
        "places.csv",
        "name,area_km2,coastal\nLisbon,100.05,true\nPorto,41.42,false\nBraga,183.4,false\n",
    )?;
    rt.block_on(t.ingest(&[&places], &[]))?;
    h.state_mut().send(Command::RefreshLake);
    step_until(&mut h, "the new dataset", |h| shows(h, "places"))?;
    h.state_mut().send(Command::Inspect {
        dataset: "places".into(),
        column: Some("area_km2".into()),
    });
    step_until(&mut h, "the float profile", |h| {
        shows(h, "places.area_km2") && shows(h, "183.4") && shows(h, "histogram")
    })?;
    h.state_mut().send(Command::Inspect {
        dataset: "places".into(),
        column: Some("coastal".into()),
    });
    step_until(&mut h, "the boolean profile", |h| {
        shows(h, "places.coastal") && shows(h, "top values")
    })?;
    assert!(shows(&h, "Boolean"), "the type is shown");
    assert!(!shows(&h, "not implemented"), "no SQL error");
    Ok(())
}

#[test]
fn a_saved_notebook_reopens_with_its_cells_and_outputs() -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let t = TestLake::new()?;
    let path = small_lake(&t, &rt)?;
    {
        let mut h = open_app(&rt, &t.lake(), &path)?;
        h.state_mut().send(Command::Add {
            kind: "sql".into(),
            after: None,
        });
        h.run_steps(2);
        let id = h.state().notebook().cells[1].id.clone();
        h.state_mut().send(Command::Run(id));
        step_until(&mut h, "the new cell's result", |h| {
            !h.state().busy() && shows(h, "1 rows")
        })?;
        h.key_press_modifiers(Modifiers::COMMAND, Key::S);
        h.run_steps(3);
    }
    let saved = Notebook::load(&path)?;
    assert_eq!(saved.cells.len(), 2);
    assert_eq!(saved.cells[1].text("sql"), "SELECT 1");

    let mut h = open_app(&rt, &t.lake(), &path)?;
    h.run_steps(3);
    assert_eq!(h.state().notebook().cells.len(), 2);
    assert!(
        shows(&h, "(cached)"),
        "the last output is shown without a re-run"
    );
    assert!(shows(&h, "1 rows"), "with its table");
    Ok(())
}

#[test]
fn a_match_cell_shows_correspondences_and_turns_the_kept_ones_into_sql() -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let t = TestLake::new()?;
    rt.block_on(t.run(&["demo", "--no-gui"]))?;
    let path = t.src("match.lakebook");
    std::fs::write(
        &path,
        "format = 1\ntitle = \"Match\"\n\n[[cells]]\nid = \"m\"\nkind = \"match\"\nsource = \"customers\"\ntarget = \"clients\"\nmatcher = \"combined\"\n",
    )?;
    let mut h = open_app(&rt, &t.lake(), &path)?;
    h.state_mut().send(Command::Run("m".into()));
    step_until(&mut h, "the correspondences", |h| {
        !h.state().busy() && shows(h, "country  ↔  nation")
    })?;
    assert!(shows(&h, "city  ↔  town"), "values find renamed columns");
    assert!(shows(&h, "joinable"), "the table-level verdict is shown");

    // Drop the best pair: the decision is written into the cell.
    let boxes: Vec<_> = h.get_all_by_role(egui::accesskit::Role::CheckBox).collect();
    assert!(
        boxes.len() >= 6,
        "one keep box per listed pair ({})",
        boxes.len()
    );
    boxes[0].click_accesskit();
    h.run_steps(3);
    let rejected = lakebook_core::notebook::kinds::matching::pair_list(
        &h.state().notebook().cells[0],
        "rejected",
    );
    assert_eq!(
        rejected,
        vec![("country".to_string(), "nation".to_string())]
    );

    h.get_by_label("SQL join").click_accesskit();
    h.run_steps(3);
    assert_eq!(h.state().notebook().cells.len(), 2, "a SQL cell was added");
    step_until(&mut h, "the join cell's result", |h| {
        h.state().notebook().cells.len() == 2 && !h.state().busy()
    })?;
    let sql = h.state().notebook().cells[1].text("sql").to_string();
    assert!(sql.contains("JOIN \"clients\""), "{sql}");
    let id = h.state().notebook().cells[1].id.clone();
    step_until(&mut h, "rows of the join", |h| {
        h.state().output_rows(&id).is_some_and(|n| n > 0)
    })?;
    assert!(!shows(&h, "Error:"), "the generated join runs");
    Ok(())
}

#[test]
fn a_communities_cell_shows_the_graph_view_with_its_seeded_community() -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let t = TestLake::new()?;
    let mut csv = String::from("src,dst\n");
    for c in 0..4 {
        for a in 0..5 {
            for b in a + 1..5 {
                csv.push_str(&format!("p{c}_{a},p{c}_{b}\n"));
            }
        }
        csv.push_str(&format!("p{c}_4,p{}_0\n", (c + 1) % 4));
    }
    let links = t.file("links.csv", csv)?;
    rt.block_on(t.ingest(&[&links], &[]))?;
    rt.block_on(t.run(&[
        "graph", "people", "--edges", "links", "--source", "src", "--target", "dst",
    ]))?;
    let path = t.src("graph.lakebook");
    std::fs::write(
        &path,
        "format = 1\ntitle = \"Graph\"\n\n[[cells]]\nid = \"c\"\nkind = \"communities\"\ngraph = \"people\"\nseeds = [\"p2_1\"]\n",
    )?;
    let mut h = open_app(&rt, &t.lake(), &path)?;
    h.state_mut().send(Command::Run("c".into()));
    step_until(&mut h, "the graph view", |h| {
        !h.state().busy() && shows(h, "community around 1 seed(s): 5 members")
    })?;
    assert!(shows(&h, "4 communities"), "the partition is summarised");
    assert!(
        shows(&h, "Colour by community"),
        "the graph view's toolbar is there"
    );
    h.get_by_label("⏸ Pause").click_accesskit();
    h.run_steps(2);
    assert!(shows(&h, "▶ Resume"), "the layout pauses");
    h.get_by_label("Clear seeds").click_accesskit();
    h.run_steps(2);
    assert!(
        !shows(&h, "community around 1 seed(s)"),
        "clearing seeds clears the community"
    );
    Ok(())
}

#[test]
fn a_clusters_cell_shows_its_subpopulations_and_turns_one_into_a_sql_slice() -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let t = TestLake::new()?;
    let mut csv = String::from("person_id,region,age\n");
    for i in 0..90 {
        let (region, age) = match i % 3 {
            0 => ("north", 20 + i % 7),
            1 => ("east", 45 + i % 7),
            _ => ("west", 70 + i % 7),
        };
        csv.push_str(&format!("{},{region},{age}\n", 1000 + i));
    }
    let people = t.file("people.csv", csv)?;
    rt.block_on(t.ingest(&[&people], &[]))?;
    let path = t.src("clusters.lakebook");
    std::fs::write(
        &path,
        "format = 1\ntitle = \"Clusters\"\n\n[[cells]]\nid = \"c\"\nkind = \"cluster\"\ndataset = \"people\"\nk = \"3\"\n",
    )?;
    let mut h = open_app(&rt, &t.lake(), &path)?;
    h.state_mut().send(Command::Run("c".into()));
    step_until(&mut h, "the subpopulations", |h| {
        !h.state().busy() && shows(h, "region = east (100% vs 33% overall)")
    })?;
    assert!(shows(&h, "90 rows of people"), "the run is summarised");
    // The description's slice: the rows that have the cluster's attributes.
    h.get_all_by_label("SQL: rows like it")
        .next()
        .context("a described slice per described subpopulation")?
        .click_accesskit();
    h.run_steps(3);
    assert_eq!(h.state().notebook().cells.len(), 2, "a SQL cell was added");
    let sql = h.state().notebook().cells[1].text("sql").to_string();
    assert!(sql.contains("WHERE") && sql.contains("\"people\""), "{sql}");
    step_until(&mut h, "the slice's rows", |h| !h.state().busy())?;
    assert!(!shows(&h, "Error:"), "the slice query runs");
    // The exact slice: the cluster's own 30 rows, by their key.
    h.get_all_by_label("SQL: its rows")
        .next()
        .context("an exact slice per cluster")?
        .click_accesskit();
    h.run_steps(3);
    assert_eq!(h.state().notebook().cells.len(), 3, "a SQL cell was added");
    let added = h.state().notebook().cells[1].clone();
    assert!(
        added.text("sql").contains("WHERE \"person_id\" IN (10"),
        "{}",
        added.text("sql")
    );
    step_until(&mut h, "the members", |h| !h.state().busy())?;
    assert_eq!(h.state().output_rows(&added.id), Some(30));
    Ok(())
}

#[test]
fn a_large_result_fetches_further_pages_as_the_table_scrolls() -> Result<()> {
    const ROWS: usize = 250_000;
    let rt = tokio::runtime::Runtime::new()?;
    let t = TestLake::new()?;
    let mut csv = String::from("n,label\n");
    for n in 0..ROWS {
        csv.push_str(&format!("{n},row {n}\n"));
    }
    let file = t.file("numbers.csv", csv)?;
    rt.block_on(t.ingest(&[&file], &[]))?;
    let path = t.src("big.lakebook");
    std::fs::write(
        &path,
        "format = 1\ntitle = \"Big\"\n\n[[cells]]\nid = \"all\"\nkind = \"sql\"\nsql = \"SELECT n, label FROM numbers ORDER BY n\"\n",
    )?;
    let mut h = open_app(&rt, &t.lake(), &path)?;
    h.state_mut().send(Command::Run("all".into()));
    step_until(&mut h, "the first page", |h| {
        shows(h, "rows loaded, more as you scroll")
    })?;
    assert!(!shows(&h, &format!("{ROWS} rows")));
    // Scrolling to the end of what is loaded fetches the next page, until
    // every row is there.
    let started = Instant::now();
    while !shows(&h, &format!("{ROWS} rows")) {
        if started.elapsed() > Duration::from_secs(60) {
            let labels: Vec<String> = h
                .query_all_by_label_contains("row")
                .filter_map(|n| text_of(&n))
                .take(4)
                .collect();
            bail!("the table never grew to {ROWS} rows: {labels:?}");
        }
        // Any cell of the table's label column: the pointer over the table.
        scroll_table_down(&mut h);
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..5 {
        if shows(&h, &format!("row {}", ROWS - 1)) {
            break;
        }
        scroll_table_down(&mut h);
    }
    assert!(
        shows(&h, &format!("row {}", ROWS - 1)),
        "the last row is on screen"
    );
    Ok(())
}

/// Points at a row in the middle of the table on screen and turns the wheel
/// far down.
fn scroll_table_down(h: &mut Harness<'static, LakebookApp>) {
    // A row in the middle of those drawn: the top one may be half
    // hidden under the header.
    let hovered = match h
        .query_all_by_label_contains("row ")
        .filter(|n| {
            text_of(n).is_some_and(|l| {
                l.strip_prefix("row ")
                    .is_some_and(|rest| rest.parse::<usize>().is_ok())
            })
        })
        .nth(5)
    {
        Some(node) => {
            node.hover();
            true
        }
        None => false,
    };
    if hovered {
        h.step();
    }
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Page,
        delta: egui::vec2(0.0, -1_000.0),
        modifiers: Modifiers::NONE,
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
    });
    h.step();
}

#[test]
fn charts_say_what_they_leave_out() {
    assert_eq!(chart_caveat(ChartKind::Line, 40, false), None);
    let partial = chart_caveat(ChartKind::Line, 106_496, true).unwrap_or_default();
    assert!(partial.starts_with("Charting the 106496 rows loaded so far"));
    assert!(!partial.contains("Bars"));
    let bars = chart_caveat(ChartKind::Bar, 1_000, false).unwrap_or_default();
    assert_eq!(bars, "Bars for the first 500 rows.");
    assert!(
        chart_caveat(ChartKind::Bar, 106_496, true)
            .is_some_and(|c| c.contains("loaded so far") && c.contains("first 500"))
    );
}

/// The canvas camera frames points, zooms around the pointer and pans.
#[test]
fn camera_zooms_around_the_pointer() {
    use egui::{Pos2, Rect, Vec2};
    let rect = Rect::from_min_size(Pos2::ZERO, Vec2::new(400.0, 300.0));
    let mut camera = Camera::default();
    assert!(camera.fit(rect, [Vec2::new(-5.0, 0.0), Vec2::new(5.0, 2.0)], 20.0));
    assert!((camera.zoom - 36.0).abs() < 1e-4, "zoom {}", camera.zoom);
    assert!((camera.to_screen(rect, Vec2::new(0.0, 1.0)) - rect.center()).length() < 1e-4);
    let pointer = Pos2::new(310.0, 90.0);
    let under = camera.to_world(rect, pointer);
    camera.zoom_at(rect, pointer, 2.5);
    assert!((camera.zoom - 90.0).abs() < 1e-3);
    assert!((camera.to_world(rect, pointer) - under).length() < 1e-4);
    camera.pan(Vec2::new(10.0, 0.0));
    assert!((camera.to_screen(rect, under) - (pointer + Vec2::new(10.0, 0.0))).length() < 1e-3);
    let before = camera;
    assert!(!camera.fit(rect, [Vec2::new(f32::NAN, 0.0)], 20.0));
    assert_eq!(camera, before);
}
