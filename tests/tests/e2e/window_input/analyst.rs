//! What an analyst expects of the window: results out, the keyboard,
//! the lake browser; checked with real input.

use super::*;

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
