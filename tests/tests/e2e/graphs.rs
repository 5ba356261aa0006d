//! Graphs from the lake: building from edge tables and co-occurrence with
//! messy input, storing and reopening, whole-graph and seeded communities,
//! the notebook cells, and the evaluation on email-Eu-core.

use std::path::PathBuf;

use anyhow::Result;
use lakebook_core::graph::leiden::LeidenOptions;
use lakebook_core::graph::seeded::{DEFAULT_THRESHOLD, NeighbourhoodIndex};
use lakebook_core::graph::{GraphOutput, load_graph};
use lakebook_core::notebook::{CellOutput, Notebook, saved};
use lakebook_core::{Job, Lake};
use lakebook_eval::graph::edge_list::read_edge_list;
use lakebook_eval::graph::evaluate::{evaluate_partition, evaluate_seeded};
use serde_json::Value;

use crate::support::TestLake;

/// Four cliques of five named people, each clique's last member linked to the
/// next clique's first, plus messy rows: a self-loop, a repeated edge (reversed),
/// a row with no target, and a weight that is not a number.
fn clique_edges() -> String {
    let mut csv = String::from("src,dst,w\n");
    for c in 0..4 {
        for a in 0..5 {
            for b in a + 1..5 {
                csv.push_str(&format!("p{}_{a},p{}_{b},1\n", c, c));
            }
        }
        csv.push_str(&format!("p{c}_4,p{}_0,1\n", (c + 1) % 4));
    }
    csv.push_str("p0_0,p0_0,1\n");
    csv.push_str("p0_1,p0_0,2\n");
    csv.push_str("p1_1,,1\n");
    csv.push_str("p2_1,p2_2,heavy\n");
    csv
}

/// Which clique a node id belongs to.
fn clique_of(id: &str) -> &str {
    id.split('_').next().unwrap_or_default()
}

#[tokio::test]
async fn an_edge_table_becomes_a_stored_graph_with_its_messy_rows_reported() -> Result<()> {
    let t = TestLake::new()?;
    let edges = t.file("links.csv", clique_edges())?;
    t.ingest(&[&edges], &[]).await?;
    let out = t
        .run(&[
            "graph", "people", "--edges", "links", "--source", "src", "--target", "dst",
            "--weight", "w",
        ])
        .await?;
    assert!(out.contains("20 nodes, 44 edges"), "{out}");
    for note in [
        "1 self-loops skipped",
        "1 repeated edges merged",
        "1 rows with a null or empty id",
        "1 edges with a null, non-numeric",
    ] {
        assert!(out.contains(note), "missing '{note}' in:\n{out}");
    }
    // The graph is two datasets SQL can read.
    assert_eq!(t.scalar("SELECT count(*) FROM people_nodes").await?, 20);
    assert_eq!(t.scalar("SELECT count(*) FROM people_edges").await?, 44);
    // The repeated edge's weights were added up.
    let w = t
        .scalar("SELECT weight FROM people_edges WHERE (source_id = 'p0_0' AND target_id = 'p0_1') OR (source_id = 'p0_1' AND target_id = 'p0_0')")
        .await?;
    assert_eq!(w.as_f64(), Some(3.0));
    // Listing and describing.
    assert!(t.run(&["graph"]).await?.contains("people"));
    let described: Value =
        serde_json::from_str(&t.run(&["graph", "people", "--format", "json"]).await?)?;
    assert_eq!(described["report"]["self_loops"], 1);
    // Reopened from the lake, the graph is the same.
    let lake = Lake::open(&t.lake()).await?;
    let stored = load_graph(&lake, "people").await?;
    assert_eq!(
        (stored.graph.node_count(), stored.graph.edge_count()),
        (20, 44)
    );
    assert!(stored.graph.find("p3_4").is_some());
    // A graph name that is already a dataset, and unknown columns, are clear errors.
    let err = t
        .run_err(&[
            "graph", "links_x", "--edges", "links", "--source", "nope", "--target", "dst",
        ])
        .await;
    assert!(err.contains("nope"), "{err}");
    let err = t
        .run_err(&[
            "graph", "bad name", "--edges", "links", "--source", "src", "--target", "dst",
        ])
        .await;
    assert!(err.contains("not a usable graph name"), "{err}");
    let err = t.run_err(&["communities", "nothing"]).await;
    assert!(err.contains("no graph named 'nothing'"), "{err}");
    Ok(())
}

#[tokio::test]
async fn a_node_table_gives_labels_and_edges_to_unknown_ids_are_reported() -> Result<()> {
    let t = TestLake::new()?;
    let people = t.file(
        "people.csv",
        "pid,name
1,Ada
2,Brian
3,Chen
4,Dora
",
    )?;
    let links = t.file(
        "knows.csv",
        "a,b
1,2
2,3
3,99
4,1
",
    )?;
    t.ingest(&[&people, &links], &[]).await?;
    let out = t
        .run(&[
            "graph", "social", "--edges", "knows", "--source", "a", "--target", "b", "--nodes",
            "people", "--id", "pid", "--label", "name",
        ])
        .await?;
    assert!(out.contains("4 nodes, 3 edges"), "{out}");
    assert!(out.contains("1 edges to unknown nodes skipped"), "{out}");
    assert_eq!(
        t.scalar("SELECT label FROM social_nodes WHERE id = '3'")
            .await?,
        "Chen"
    );
    // Seeds can be named by label too.
    let out = t
        .run(&[
            "communities",
            "social",
            "--seeds",
            "Chen",
            "--format",
            "json",
        ])
        .await?;
    assert!(out.contains("\"seed\":true"), "{out}");
    Ok(())
}

#[tokio::test]
async fn communities_recover_cliques_whole_and_around_seeds() -> Result<()> {
    let t = TestLake::new()?;
    let edges = t.file("links.csv", clique_edges())?;
    t.ingest(&[&edges], &[]).await?;
    t.run(&[
        "graph", "people", "--edges", "links", "--source", "src", "--target", "dst",
    ])
    .await?;
    let out = t
        .run(&["communities", "people", "--format", "json"])
        .await?;
    let rows: Vec<Value> = serde_json::from_str(out.trim())?;
    assert_eq!(rows.len(), 20);
    // Every clique is one community, and different cliques are different communities.
    let mut by_clique = std::collections::BTreeMap::new();
    for r in &rows {
        let id = r["id"].as_str().unwrap_or_default().to_string();
        by_clique
            .entry(clique_of(&id).to_string())
            .or_insert_with(std::collections::BTreeSet::new)
            .insert(r["community"].as_u64().unwrap_or(99));
    }
    assert_eq!(by_clique.len(), 4);
    assert!(by_clique.values().all(|c| c.len() == 1), "{by_clique:?}");
    let distinct: std::collections::BTreeSet<_> = by_clique.values().flatten().collect();
    assert_eq!(distinct.len(), 4);
    // The run is stored in the nodes dataset.
    assert_eq!(
        t.scalar("SELECT count(DISTINCT community) FROM people_nodes")
            .await?,
        4
    );
    // By default Leiden goes on until a pass finds nothing better; a pass
    // limit says when it stopped at the limit, and the graph keeps that.
    let out = t.run(&["communities", "people"]).await?;
    assert!(out.contains("passes until stable"), "{out}");
    let out = t.run(&["communities", "people", "--passes", "1"]).await?;
    assert!(out.contains("4 communities"), "{out}");
    assert!(
        out.contains("stopped at the limit of 1 pass: more may raise modularity"),
        "{out}"
    );
    let info = t.run(&["graph", "people"]).await?;
    assert!(info.contains("stopped at the limit of 1 pass"), "{info}");
    // Around two seeds of clique 2: clique 2 exactly, seeds first.
    let out = t
        .run(&[
            "communities",
            "people",
            "--seeds",
            "p2_1,p2_3",
            "--format",
            "json",
        ])
        .await?;
    let rows: Vec<Value> = serde_json::from_str(out.trim())?;
    let ids: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(&ids[..2], &["p2_1", "p2_3"]);
    let mut found: Vec<&str> = ids.clone();
    found.sort_unstable();
    assert_eq!(found, vec!["p2_0", "p2_1", "p2_2", "p2_3", "p2_4"]);
    let err = t
        .run_err(&["communities", "people", "--seeds", "nobody"])
        .await;
    assert!(err.contains("node 'nobody' is not in the graph"), "{err}");
    Ok(())
}

#[tokio::test]
async fn co_occurrence_links_items_that_share_groups_and_skips_huge_groups() -> Result<()> {
    let t = TestLake::new()?;
    let mut csv = String::from("paper,author\n");
    // Two research groups writing papers together, one bridging paper.
    for p in 0..6 {
        for a in ["ann", "bob", "cy"] {
            csv.push_str(&format!("a{p},{a}\n"));
        }
        for a in ["dee", "eve", "fay"] {
            csv.push_str(&format!("b{p},{a}\n"));
        }
    }
    csv.push_str("bridge,cy\nbridge,dee\n");
    // A "paper" with 300 authors would add 44,850 edges: it is skipped.
    for a in 0..300 {
        csv.push_str(&format!("consortium,member{a}\n"));
    }
    csv.push_str(",ghost\n");
    let file = t.file("authorship.csv", csv)?;
    t.ingest(&[&file], &[]).await?;
    let out = t
        .run(&[
            "graph",
            "coauthors",
            "--cooccur",
            "authorship",
            "--group",
            "paper",
            "--item",
            "author",
            "--format",
            "json",
        ])
        .await?;
    let record: Value = serde_json::from_str(&out)?;
    assert_eq!(record["report"]["oversized_groups"], 1, "{out}");
    assert_eq!(record["edges"], 7, "{out}");
    // ann–bob wrote 6 papers together: weight 6; cy–dee one: weight 1.
    let w = |a: &str, b: &str| {
        format!(
            "SELECT weight FROM coauthors_edges WHERE (source_id='{a}' AND target_id='{b}') OR (source_id='{b}' AND target_id='{a}')"
        )
    };
    assert_eq!(t.scalar(&w("ann", "bob")).await?.as_f64(), Some(6.0));
    assert_eq!(t.scalar(&w("cy", "dee")).await?.as_f64(), Some(1.0));
    Ok(())
}

#[tokio::test]
async fn graph_and_communities_cells_run_headless_and_reopen_from_the_cache() -> Result<()> {
    let t = TestLake::new()?;
    let edges = t.file("links.csv", clique_edges())?;
    t.ingest(&[&edges], &[]).await?;
    let notebook = t.src("graphs.lakebook");
    std::fs::write(
        &notebook,
        format!(
            r#"format = 1
title = "Graphs"
lake = "{}"

[[cells]]
id = "g"
kind = "graph"
name = "people"
from = "edges"
dataset = "links"
source = "src"
target = "dst"

[[cells]]
id = "c"
kind = "communities"
graph = "people"
seeds = ["p1_0"]
passes = 1
"#,
            t.lake().display()
        ),
    )?;
    let path = notebook.to_string_lossy().into_owned();
    let out = t.run(&["run", &path]).await?;
    assert!(out.contains("graph people: 20 nodes, 44 edges"), "{out}");
    assert!(out.contains("4 communities"), "{out}");
    assert!(out.contains("community around p1_0: 5 members"), "{out}");
    assert!(out.contains("stopped at the limit of 1 pass"), "{out}");
    // The outputs are cached beside the notebook and read back without running.
    let dir = saved::outputs_dir(&notebook);
    let cached = saved::load(&dir, "c")?.expect("cached").expect("ran");
    let CellOutput::Graph(g) = cached.output else {
        panic!("not a graph output");
    };
    let g: GraphOutput = *g;
    assert_eq!(g.record.nodes, 20);
    assert_eq!(g.seeded.map(|s| s.community.members.len()), Some(5));
    assert!(
        g.data.is_none(),
        "the graph itself is read from the lake, not the cache"
    );
    // A second run reopens the stored graph instead of rebuilding it.
    let before = t.scalar("SELECT count(*) FROM people_edges").await?;
    let versions_before = t
        .run(&["versions", "people_edges", "--format", "json"])
        .await?;
    t.run(&["run", &path]).await?;
    assert_eq!(t.scalar("SELECT count(*) FROM people_edges").await?, before);
    assert_eq!(
        t.run(&["versions", "people_edges", "--format", "json"])
            .await?,
        versions_before
    );
    let saved = Notebook::load(&notebook)?;
    assert_eq!(saved.cells.len(), 2);
    Ok(())
}

#[tokio::test]
async fn empty_and_edgeless_graphs_are_handled() -> Result<()> {
    let t = TestLake::new()?;
    let file = t.file("none.csv", "a,b\nx,x\ny,y\n")?;
    t.ingest(&[&file], &[]).await?;
    let out = t
        .run(&[
            "graph", "loops", "--edges", "none", "--source", "a", "--target", "b",
        ])
        .await?;
    assert!(out.contains("0 nodes, 0 edges"), "{out}");
    assert!(out.contains("2 self-loops skipped"), "{out}");
    let out = t.run(&["communities", "loops"]).await?;
    assert!(out.contains("0 communities"), "{out}");
    Ok(())
}

fn email_eu_core() -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/bench/email-eu-core"
    ));
    (dir.join("edges.txt"), dir.join("labels.txt"))
}

#[test]
fn email_eu_core_communities_match_the_departments_as_well_as_igraph() -> Result<()> {
    let (edges, labels) = email_eu_core();
    let read = read_edge_list(&edges, Some(&labels))?;
    assert_eq!(read.graph.node_count(), 1005);
    assert_eq!(read.graph.edge_count(), 16_064);
    let truth = read.truth.expect("labels");
    let adjacency = read.graph.adjacency();
    let (_, whole) = evaluate_partition(&adjacency, &truth, &LeidenOptions::default());
    // igraph's Leiden on the same graph: modularity 0.4175, NMI 0.59 (bench/GRAPH_RESULTS.md).
    assert!(whole.modularity > 0.41, "{whole:?}");
    assert!(whole.nmi > 0.55, "{whole:?}");
    let index = NeighbourhoodIndex::build(&adjacency, DEFAULT_THRESHOLD, &Job::new())?;
    let seeded = evaluate_seeded(&adjacency, &index, &truth, 3, 3, 10, 7);
    let at_size = seeded
        .recall_curve
        .iter()
        .find(|p| p.members == 1.0)
        .map(|p| p.recall)
        .unwrap_or_default();
    // Seeded queries beat the whole-graph partition's answer (F1 about 0.31).
    assert!(at_size > 0.45, "{seeded:?}");
    assert!(seeded.auto_f1 > 0.35, "{seeded:?}");
    Ok(())
}

#[tokio::test]
async fn a_lake_graph_is_reopened_until_the_lake_changes() -> Result<()> {
    let t = TestLake::new()?;
    let people = t.file("people.csv", "id,name\n1,ann\n2,bob\n")?;
    t.ingest(&[&people], &[]).await?;
    let notebook = t.src("schema.lakebook");
    std::fs::write(
        &notebook,
        format!(
            "format = 1\nlake = \"{}\"\n\n[[cells]]\nid = \"g\"\nkind = \"graph\"\nname = \"schema\"\nfrom = \"lake\"\n",
            t.lake().display()
        ),
    )?;
    let path = notebook.to_string_lossy().into_owned();
    let versions = || t.run(&["versions", "schema_nodes", "--format", "json"]);
    t.run(&["run", &path]).await?;
    let first = versions().await?;
    // Reopening reads what is stored: the graph's own datasets are not inputs.
    t.run(&["run", &path]).await?;
    assert_eq!(versions().await?, first);
    // A new table makes it out of date, and the next run rebuilds it.
    let orders = t.file("orders.csv", "order_id,person_id\n7,1\n")?;
    t.ingest(&[&orders], &[]).await?;
    t.run(&["run", &path]).await?;
    let rebuilt = versions().await?;
    assert_ne!(rebuilt, first);
    let nodes = t
        .scalar("SELECT count(*) FROM schema_nodes WHERE id = 'orders'")
        .await?;
    assert_eq!(nodes.as_i64(), Some(1));
    t.run(&["run", &path]).await?;
    assert_eq!(versions().await?, rebuilt);
    // The graph's node and edge datasets belong to the graph: grouped under
    // it, and never offered as related tables.
    let lake = Lake::open(&t.lake()).await?;
    let parts = lakebook_core::graph::graph_parts(&lake);
    let expected = [("schema_edges", "schema"), ("schema_nodes", "schema")]
        .map(|(d, g)| (d.to_string(), g.to_string()));
    assert_eq!(parts, expected.into_iter().collect());
    let sketched: Vec<String> = lakebook_core::matching::related::lake_sketches(&lake, &Job::new())
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(sketched, ["orders", "people"]);
    Ok(())
}
