#!/usr/bin/env python3
"""Community detection: Lakebook's Leiden against igraph and leidenalg.

Two graphs with known communities:

* email-Eu-core (SNAP): 1,005 people of a European research institution,
  25,571 e-mail links, each person labelled with one of 42 departments.
  Read from ../shared/bench/email-eu-core/{edges.txt,labels.txt} next to the
  repository.
* An LFR benchmark graph (Lancichinetti, Fortunato and Radicchi 2008) with
  --lfr-nodes nodes (default 100,000; average degree 20, mixing 0.3),
  written by `lakebook generate lfr` and cached in
  ~/.cache/lakebook-bench/graph/lfr-N-SEED/.

On each graph the script runs igraph's Louvain (`community_multilevel`),
igraph's Leiden (`community_leiden`, modularity, iterated until stable),
leidenalg (`find_partition` with `ModularityVertexPartition`) and
`lakebook eval communities`, each --runs times, and reports the median time
of the algorithm alone (file loading and graph building excluded, for
Lakebook too: it reports its own `seconds`), the modularity, and NMI and ARI
against the planted labels. It also runs `lakebook eval seeded` (community
search around seed nodes) and reports its recall curve and query latency.

With --sweep-mu it also compares igraph's Leiden and Lakebook on LFR graphs
of other mixings (the share of each node's edges leaving its community).

The results go to stdout and, as markdown, to --out (bench/GRAPH_RESULTS.md),
with PASS/MISS lines for three targets: Lakebook's modularity ≥ igraph
Leiden's, its NMI ≥ igraph Leiden's, and its time ≤ igraph Leiden's. Quality
lines give the standard error of the difference of the means over the runs
and say whether a miss lies within two of them.

Conventions (the same for every method): the graph is undirected; repeated
edges are merged and self-loops dropped; the node set is the union of the
edge endpoints and the labelled nodes (a labelled node without edges is an
isolated node); NMI and ARI are computed over the labelled nodes only.

The Python side needs python-igraph and leidenalg. They live in a virtual
environment, by default ~/.cache/lakebook-bench/graph-venv: the script
creates it when missing (pip install igraph leidenalg, network needed once)
and re-runs itself with its interpreter. --no-venv uses the current Python.

Usage:
    cargo build --release
    python3 bench/graph_communities.py --lakebook target/release/lakebook
    python3 bench/graph_communities.py --lakebook target/release/lakebook \\
        --lfr-nodes 1000000 --runs 5 --out bench/GRAPH_RESULTS_1M.md
    python3 bench/graph_communities.py --datasets email   # igraph side only if
                                                          # no binary is found
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import command_line, ensure_venv, find_lakebook, fmt, fmt_ratio, fmt_seconds

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CACHE = Path.home() / ".cache" / "lakebook-bench"
DEFAULT_VENV = CACHE / "graph-venv"
EMAIL_DIR = SHARED / "bench" / "email-eu-core"
LAKEBOOK_TIMEOUT_S = 6 * 3600


# --------------------------------------------------------------------------
# Virtual environment


def import_graph_libraries():
    try:
        import igraph
        import leidenalg
    except ImportError as err:
        sys.exit(
            f"error: {err}. Install them with `pip install igraph leidenalg` "
            f"or run without --no-venv."
        )
    return igraph, leidenalg


# --------------------------------------------------------------------------
# Data


@dataclass
class Dataset:
    name: str
    edges_path: Path
    labels_path: Path
    description: str


@dataclass
class LoadedGraph:
    graph: object  # igraph.Graph
    ids: list[str]  # node index -> id in the files
    labels: dict[int, int]  # node index -> community label (dense ints)
    raw_edges: int  # lines in the edge file


def node_sort_key(token: str):
    return (0, int(token), "") if token.lstrip("-").isdigit() else (1, 0, token)


def read_pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 2 or fields[0].startswith(("#", "%")):
                continue
            pairs.append((fields[0], fields[1]))
    return pairs


def load(dataset: Dataset, igraph) -> LoadedGraph:
    edges = read_pairs(dataset.edges_path)
    labelled = read_pairs(dataset.labels_path)
    tokens = {a for a, _ in edges} | {b for _, b in edges} | {node for node, _ in labelled}
    ids = sorted(tokens, key=node_sort_key)
    index = {token: i for i, token in enumerate(ids)}
    graph = igraph.Graph(
        n=len(ids), edges=[(index[a], index[b]) for a, b in edges], directed=False
    )
    graph.simplify(multiple=True, loops=True)
    communities: dict[str, int] = {}
    labels: dict[int, int] = {}
    for node, community in labelled:
        labels.setdefault(index[node], communities.setdefault(community, len(communities)))
    return LoadedGraph(graph, ids, labels, len(edges))


def lfr_dataset(lakebook: Path | None, nodes: int, seed: int,
                mixing: str | None = None) -> tuple[Dataset | None, str]:
    """The LFR graph of `nodes` and `seed` (mixing 0.3 unless given),
    generated by Lakebook on first use and cached."""
    suffix = f"-mu{mixing}" if mixing else ""
    directory = CACHE / "graph" / f"lfr-{nodes}-{seed}{suffix}"
    edges, labels = directory / "edges.txt", directory / "labels.txt"
    mixing_flag = ["--mu", mixing] if mixing else []
    description = (
        f"LFR benchmark graph, {nodes:,} nodes, seed {seed} "
        f"(`{shlex.join(['lakebook', 'generate', 'lfr', '--nodes', str(nodes), '--seed', str(seed)] + mixing_flag)}`), "
        f"cached in {directory}"
    )
    if not (edges.exists() and labels.exists()):
        if lakebook is None:
            return None, "no Lakebook binary to generate it (--lakebook)"
        staging = directory.with_name(directory.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        command = [str(lakebook), "generate", "lfr", "--nodes", str(nodes), "--seed", str(seed),
                   "--out", str(staging)] + mixing_flag
        print("$ " + shlex.join(command), file=sys.stderr)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not (staging / "edges.txt").exists():
            shutil.rmtree(staging, ignore_errors=True)
            tail = (done.stderr or done.stdout).strip()[-500:]
            return None, f"`lakebook generate lfr` failed (exit {done.returncode}): {tail}"
        print(f"  generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
    name = f"LFR {nodes:,}" + (f" μ {mixing}" if mixing else "")
    return Dataset(name, edges, labels, description), ""


# --------------------------------------------------------------------------
# Methods


@dataclass
class Row:
    method: str
    communities: int | None = None
    modularity: float | None = None
    nmi: float | None = None
    ari: float | None = None
    seconds: float | None = None
    times: list[float] = field(default_factory=list)
    # Per-run values, for the standard errors of the means.
    modularities: list[float] = field(default_factory=list)
    nmis: list[float] = field(default_factory=list)
    note: str = ""


def score(loaded: LoadedGraph, membership: list[int], igraph) -> tuple[float, float, float]:
    graph = loaded.graph
    modularity = graph.modularity(membership)
    nodes = sorted(loaded.labels)
    truth = [loaded.labels[v] for v in nodes]
    found = [membership[v] for v in nodes]
    nmi = igraph.compare_communities(truth, found, method="nmi")
    ari = igraph.compare_communities(truth, found, method="adjusted_rand")
    return modularity, nmi, ari


def run_python_method(name, call, loaded, runs, seed, igraph) -> Row:
    """Runs `call(seed)` with seeds seed, seed+1, ...: median time, mean quality."""
    row = Row(name)
    scores = []
    for run in range(runs):
        random.seed(seed + run)  # igraph draws from Python's random module
        started = time.perf_counter()
        membership = list(call(seed + run))
        row.times.append(time.perf_counter() - started)
        scores.append((len(set(membership)),) + score(loaded, membership, igraph))
    row.seconds = statistics.median(row.times)
    row.communities = round(statistics.mean(s[0] for s in scores))
    row.modularities = [s[1] for s in scores]
    row.nmis = [s[2] for s in scores]
    row.modularity = statistics.mean(row.modularities)
    row.nmi = statistics.mean(row.nmis)
    row.ari = statistics.mean(s[3] for s in scores)
    return row


IGRAPH_LEIDEN = "igraph Leiden (community_leiden, modularity, until stable)"


def python_rows(loaded: LoadedGraph, runs: int, seed: int, igraph, leidenalg,
                only_igraph_leiden: bool = False) -> list[Row]:
    graph = loaded.graph
    methods = [
        ("igraph Louvain (community_multilevel)",
         lambda _seed: graph.community_multilevel().membership),
        (IGRAPH_LEIDEN,
         lambda _seed: graph.community_leiden(objective_function="modularity",
                                              n_iterations=-1).membership),
        ("leidenalg (ModularityVertexPartition)",
         lambda run_seed: leidenalg.find_partition(graph, leidenalg.ModularityVertexPartition,
                                                   seed=run_seed).membership),
    ]
    if only_igraph_leiden:
        methods = [m for m in methods if m[0] == IGRAPH_LEIDEN]
    rows = []
    for name, call in methods:
        print(f"  {name} ...", file=sys.stderr)
        rows.append(run_python_method(name, call, loaded, runs, seed, igraph))
    return rows


def parse_json_output(text: str) -> dict:
    """The JSON object a Lakebook command printed (the whole output, or its
    last line that is a JSON object)."""
    text = text.strip()
    try:
        value = json.loads(text)
        if isinstance(value, dict):
            return value
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise ValueError(f"no JSON object in the output: {text[-300:]!r}")


def run_lakebook(command: list[str]) -> dict:
    print("$ " + shlex.join(command), file=sys.stderr)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=LAKEBOOK_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RuntimeError(str(err)) from err
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"exit {done.returncode}: {' / '.join(tail)}")
    return parse_json_output(done.stdout)


def number(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def lakebook_row(lakebook: Path | None, dataset: Dataset, loaded: LoadedGraph, runs: int,
                 seed: int) -> Row:
    row = Row("Lakebook (eval communities)")
    if lakebook is None:
        row.note = "not available: no Lakebook binary (--lakebook)"
        return row
    results = []
    try:
        for run in range(runs):
            command = [str(lakebook), "eval", "communities", str(dataset.edges_path),
                       "--truth", str(dataset.labels_path), "--seed", str(seed + run)]
            results.append(run_lakebook(command))
    except (RuntimeError, ValueError) as err:
        row.note = f"not available: {err}"
        return row
    first = results[0]
    def values_of(key: str) -> list[float]:
        return [v for v in (number(r.get(key)) for r in results) if v is not None]

    def mean_of(key: str) -> float | None:
        values = values_of(key)
        return statistics.mean(values) if values else None

    row.times = values_of("seconds")
    row.seconds = statistics.median(row.times) if row.times else None
    communities = mean_of("communities")
    row.communities = None if communities is None else round(communities)
    row.modularities = values_of("modularity")
    row.nmis = values_of("nmi")
    row.modularity = mean_of("modularity")
    row.nmi = mean_of("nmi")
    row.ari = mean_of("ari")
    notes = []
    nodes, edges = number(first.get("nodes")), number(first.get("edges"))
    if nodes is not None and int(nodes) != loaded.graph.vcount():
        notes.append(f"Lakebook counts {int(nodes):,} nodes, igraph {loaded.graph.vcount():,}")
    if edges is not None and int(edges) != loaded.graph.ecount():
        notes.append(f"Lakebook counts {int(edges):,} edges, igraph {loaded.graph.ecount():,}")
    row.note = "; ".join(notes)
    return row


def seeded_report(lakebook: Path | None, dataset: Dataset) -> list[str]:
    lines = ["", "Seeded community search (`lakebook eval seeded`):", ""]
    if lakebook is None:
        return lines + ["not available: no Lakebook binary (--lakebook)"]
    command = [str(lakebook), "eval", "seeded", str(dataset.edges_path),
               "--truth", str(dataset.labels_path)]
    try:
        result = run_lakebook(command)
    except (RuntimeError, ValueError) as err:
        return lines + [f"not available: {err}"]
    curve = result.get("recall_curve")
    if isinstance(curve, list) and curve:
        lines += ["| members added (× the group's size) | recall | precision |", "|---:|---:|---:|"]
        for point in curve:
            if isinstance(point, dict):
                lines.append(f"| {fmt(number(point.get('members')), 2)} "
                             f"| {fmt(number(point.get('recall')), 3)} "
                             f"| {fmt(number(point.get('precision')), 3)} |")
        lines.append("")
    else:
        lines.append("recall curve: not available")
    lines.append(f"query latency: p50 {fmt(number(result.get('query_ms_p50')), 2)} ms, "
                 f"p95 {fmt(number(result.get('query_ms_p95')), 2)} ms; "
                 f"index build {fmt(number(result.get('build_ms')), 1)} ms; "
                 f"{fmt_int(number(result.get('queries')))} queries of "
                 f"{fmt_int(number(result.get('seeds')))} seeds")
    lines.append(f"automatic cut (lowest conductance): mean F1 {fmt(number(result.get('auto_f1')), 3)}, "
                 f"size {fmt(number(result.get('auto_size_ratio')), 2)}× the group's; "
                 f"the whole-graph Leiden community holding most of each group: mean F1 "
                 f"{fmt(number(result.get('leiden_community_f1')), 3)} "
                 f"(whole-graph Leiden {fmt(number(result.get('whole_graph_leiden_ms')), 1)} ms)")
    return lines


# --------------------------------------------------------------------------
# Report


def fmt_int(value: float | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def standard_error_of_difference(ours: list[float], theirs: list[float]) -> float | None:
    """Standard error of mean(ours) − mean(theirs) for independent runs."""
    if len(ours) < 2 or len(theirs) < 2:
        return None
    return (statistics.variance(ours) / len(ours)
            + statistics.variance(theirs) / len(theirs)) ** 0.5


def target_line(label: str, ours: float | None, theirs: float | None, higher_is_better: bool,
                unit: str = "", spread: tuple[list[float], list[float]] | None = None,
                digits: int = 5) -> str:
    """PASS/MISS for a target; with per-run values (`spread`), also the
    standard error of the difference of the means, and whether a miss lies
    within two of them (the methods are then level within the seeds' noise)."""
    if ours is None or theirs is None:
        return f"- {label}: not available"
    met = ours >= theirs if higher_is_better else ours <= theirs
    line = (f"- {'PASS' if met else 'MISS'} {label}: {ours:.{digits}f}{unit} vs "
            f"{theirs:.{digits}f}{unit} ({ours - theirs:+.{digits}f}{unit})")
    error = standard_error_of_difference(*spread) if spread else None
    if error is not None:
        line += f"; standard error of the difference {error:.{digits}f}"
        if not met:
            line += (", so within noise" if abs(ours - theirs) <= 2 * error
                     else ", beyond two standard errors")
    return line


def dataset_section(dataset: Dataset, loaded: LoadedGraph, rows: list[Row],
                    seeded: list[str]) -> list[str]:
    graph = loaded.graph
    reference = next((r for r in rows if r.method.startswith("igraph Leiden")), None)
    ours = next((r for r in rows if r.method.startswith("Lakebook")), None)
    communities = len(set(loaded.labels.values()))
    lines = [
        f"## {dataset.name}",
        "",
        dataset.description + ".",
        f"{graph.vcount():,} nodes, {graph.ecount():,} edges after merging repeats and dropping "
        f"loops ({loaded.raw_edges:,} lines in {dataset.edges_path.name}); "
        f"{len(loaded.labels):,} labelled nodes in {communities:,} planted communities.",
        "",
        "| method | communities | modularity | NMI | ARI | time (s) | time vs igraph Leiden |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = None
        if reference and reference.seconds and row.seconds is not None:
            ratio = row.seconds / reference.seconds
        lines.append(
            f"| {row.method} | {fmt_int(row.communities)} | {fmt(row.modularity, 4)} "
            f"| {fmt(row.nmi, 4)} | {fmt(row.ari, 4)} | {fmt_seconds(row.seconds)} "
            f"| {fmt_ratio(ratio)} |"
        )
    notes = [f"{row.method}: {row.note}" for row in rows if row.note]
    if notes:
        lines += [""] + [f"Note — {note}" for note in notes]
    lines += ["", "Targets (Lakebook against igraph Leiden):"]
    theirs = reference or Row("")
    mine = ours or Row("")
    lines += [
        target_line("modularity ≥ igraph Leiden's", mine.modularity, theirs.modularity, True,
                    spread=(mine.modularities, theirs.modularities), digits=6),
        target_line("NMI ≥ igraph Leiden's", mine.nmi, theirs.nmi, True,
                    spread=(mine.nmis, theirs.nmis)),
        target_line("time ≤ igraph Leiden's", mine.seconds, theirs.seconds, False, " s"),
    ]
    return lines + seeded + [""]


def mixing_sweep_section(lakebook: Path | None, args, igraph, leidenalg) -> list[str]:
    """igraph Leiden against Lakebook on LFR graphs of other mixings μ (the
    share of each node's edges that leave its community), so one graph's
    luck does not decide the comparison."""
    mixings = [m.strip() for m in args.sweep_mu.split(",") if m.strip()]
    if not mixings:
        return []
    lines = [
        f"## LFR {args.lfr_nodes:,}: other mixings",
        "",
        f"igraph Leiden against Lakebook on LFR graphs of {args.lfr_nodes:,} nodes (seed "
        f"{args.seed}) whose mixing μ differs from the 0.3 above, {args.sweep_runs} runs each; "
        "Δ is Lakebook minus igraph Leiden, ± the standard error of that difference.",
        "",
        "| μ | planted | igraph Leiden communities | modularity | NMI "
        "| Lakebook communities | modularity | NMI | Δ modularity | Δ NMI | time vs igraph Leiden |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mixing in mixings:
        dataset, why = lfr_dataset(lakebook, args.lfr_nodes, args.seed, mixing)
        if dataset is None:
            lines.append(f"| {mixing} | {why} |")
            continue
        print(f"{dataset.name}: loading ...", file=sys.stderr)
        loaded = load(dataset, igraph)
        theirs = python_rows(loaded, args.sweep_runs, args.seed, igraph, leidenalg,
                             only_igraph_leiden=True)[0]
        ours = lakebook_row(lakebook, dataset, loaded, args.sweep_runs, args.seed)

        def delta(mine: float | None, other: float | None, spread, digits: int) -> str:
            if mine is None or other is None:
                return "–"
            error = standard_error_of_difference(*spread)
            return f"{mine - other:+.{digits}f}" + ("" if error is None else f" ± {error:.{digits}f}")

        ratio = (ours.seconds / theirs.seconds
                 if ours.seconds is not None and theirs.seconds else None)
        lines.append(
            f"| {mixing} | {len(set(loaded.labels.values())):,} "
            f"| {fmt_int(theirs.communities)} | {fmt(theirs.modularity, 6)} | {fmt(theirs.nmi, 4)} "
            f"| {fmt_int(ours.communities)} | {fmt(ours.modularity, 6)} | {fmt(ours.nmi, 4)} "
            f"| {delta(ours.modularity, theirs.modularity, (ours.modularities, theirs.modularities), 6)} "
            f"| {delta(ours.nmi, theirs.nmi, (ours.nmis, theirs.nmis), 5)} | {fmt_ratio(ratio)} |"
        )
    return lines + [""]


def machine_lines(igraph, leidenalg, lakebook: Path | None, args) -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = "–"
    if lakebook is not None:
        try:
            done = subprocess.run([str(lakebook), "--version"], capture_output=True, text=True,
                                  timeout=60)
            version = done.stdout.strip() or version
        except (OSError, subprocess.TimeoutExpired):
            pass
    command = command_line()
    return [
        "# Community detection: Lakebook vs igraph and leidenalg",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} with:",
        "",
        "```",
        command,
        "```",
        "",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu}, {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()}, python-igraph {igraph.__version__}, "
        f"leidenalg {leidenalg.version}",
        f"- Lakebook: {lakebook if lakebook else 'not given'} ({version})",
        f"- seed {args.seed}; each method run {args.email_runs} times on email-Eu-core and {args.runs} times on LFR, with seeds seed, seed+1, …: mean quality, median time of the algorithm "
        f"call alone (loading excluded; Lakebook reports its own `seconds`)",
        "- graphs: undirected, repeated edges merged, self-loops dropped; nodes = edge "
        "endpoints ∪ labelled nodes (labelled nodes without edges are isolated nodes); "
        "NMI and ARI over the labelled nodes; modularity is Newman's, resolution 1",
        "",
    ]


# --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring (head -60 bench/graph_communities.py) for details.",
    )
    parser.add_argument("--lakebook", help="the lakebook binary (default: target/release or "
                        "target/debug if built)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help=f"virtual environment with igraph and leidenalg (default {DEFAULT_VENV})")
    parser.add_argument("--no-venv", action="store_true",
                        help="use the current Python, which must have igraph and leidenalg")
    parser.add_argument("--lfr-nodes", type=int, default=100_000, help="LFR graph size")
    parser.add_argument("--seed", type=int, default=1, help="seed of the LFR graph and methods")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per method on the LFR graph, seeds seed..seed+runs-1 "
                             "(mean quality, median time)")
    parser.add_argument("--email-runs", type=int, default=30,
                        help="runs per method on email-Eu-core (milliseconds each; its "
                             "quality varies by seed more than the differences between methods)")
    parser.add_argument("--sweep-mu", default="",
                        help="comma-separated LFR mixings (e.g. 0.1,0.2,0.4,0.5) on which to "
                             "compare igraph Leiden and Lakebook too (default none)")
    parser.add_argument("--sweep-runs", type=int, default=10,
                        help="runs per method on each --sweep-mu graph")
    parser.add_argument("--datasets", default="email,lfr",
                        help="comma-separated: email, lfr (default both)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "GRAPH_RESULTS.md",
                        help="markdown results (default bench/GRAPH_RESULTS.md)")
    args = parser.parse_args()
    if args.runs < 1 or args.sweep_runs < 1:
        parser.error("--runs and --sweep-runs must be at least 1")
    if args.lfr_nodes < 2:
        parser.error("--lfr-nodes must be at least 2")
    wanted = {name.strip() for name in args.datasets.split(",") if name.strip()}
    if not wanted <= {"email", "lfr"}:
        parser.error(f"--datasets: unknown {sorted(wanted - {'email', 'lfr'})}")

    if not args.no_venv:
        ensure_venv(args.venv, ["igraph", "leidenalg"], __file__)
    igraph, leidenalg = import_graph_libraries()
    lakebook = find_lakebook(args.lakebook, "igraph/leidenalg only")

    datasets: list[Dataset] = []
    skipped: list[str] = []
    if "email" in wanted:
        if (EMAIL_DIR / "edges.txt").exists() and (EMAIL_DIR / "labels.txt").exists():
            datasets.append(Dataset(
                "email-Eu-core", EMAIL_DIR / "edges.txt", EMAIL_DIR / "labels.txt",
                f"SNAP email-Eu-core, departments as communities, from {EMAIL_DIR}"))
        else:
            skipped.append(f"email-Eu-core: not found in {EMAIL_DIR}")
    if "lfr" in wanted:
        dataset, why = lfr_dataset(lakebook, args.lfr_nodes, args.seed)
        if dataset:
            datasets.append(dataset)
        else:
            skipped.append(f"LFR {args.lfr_nodes:,}: {why}")

    report = machine_lines(igraph, leidenalg, lakebook, args)
    for dataset in datasets:
        print(f"{dataset.name}: loading ...", file=sys.stderr)
        loaded = load(dataset, igraph)
        runs = args.email_runs if dataset.name == "email-Eu-core" else args.runs
        rows = python_rows(loaded, runs, args.seed, igraph, leidenalg)
        rows.append(lakebook_row(lakebook, dataset, loaded, runs, args.seed))
        seeded = seeded_report(lakebook, dataset)
        report += dataset_section(dataset, loaded, rows, seeded)
    if "lfr" in wanted:
        report += mixing_sweep_section(lakebook, args, igraph, leidenalg)
    for line in skipped:
        report.append(f"Skipped — {line}")
    text = "\n".join(report).rstrip() + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
