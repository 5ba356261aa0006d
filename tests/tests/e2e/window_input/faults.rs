//! The window issue's numbered faults, each checked with real input.

use super::*;

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
