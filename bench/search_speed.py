#!/usr/bin/env python3
"""Semantic search at scale: latency with the vector index, and its recall.

1. Collects N real English passages (default 100,000): paragraphs of the
   docstrings of this machine's Python standard library and installed
   packages, deduplicated, shuffled with a fixed seed. 200 more, never in the
   dataset, give the queries (their first sentence, cut at 20 words).
2. Lakebook ingests them into a fresh lake (bench/out/search_lake), embeds
   them with `lakebook embed` (which builds the IVF-HNSW-SQ vector index),
   and runs `lakebook bench search`: every query is answered with the index
   and by exact search (every vector compared), in the same process.
3. Prints and writes OUT/search_speed.json: p50/p95 latency with the index,
   the exact search's latency (the simple method, as the baseline) and the
   speed-up, and recall@10 of the index against exact search.

Usage:
    python3 bench/search_speed.py                    # 100k passages
    python3 bench/search_speed.py --passages 20000
    python3 bench/search_speed.py --skip-embed       # reuse the lake of a previous run

Embedding 100k passages takes a while on 2 cores (the embed throughput
benchmark tells how long); the lake is kept, and an interrupted embed resumes.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def docstring_paragraphs() -> list[str]:
    roots = [Path(sysconfig.get_paths()["stdlib"])] + [Path(p) for p in site.getsitepackages()]
    seen: set[str] = set()
    found: list[str] = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError, OSError, RecursionError):
                continue
            for node in ast.walk(tree):
                if not isinstance(
                    node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
                ):
                    continue
                doc = ast.get_docstring(node)
                if not doc:
                    continue
                for para in doc.strip().split("\n\n"):
                    text = " ".join(para.split())
                    if len(text.split()) >= 8 and text not in seen:
                        seen.add(text)
                        found.append(text)
    return found


def first_sentence(text: str, words: int = 20) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return " ".join(sentence.split()[:words])


def run(binary: Path, lake: Path, *args: str) -> str:
    out = subprocess.run(
        [str(binary), "--lake", str(lake), *args], capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"lakebook {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-embed", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument(
        "--lakebook",
        type=Path,
        default=Path(
            os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/lakebook-target"))
        )
        / "debug"
        / "lakebook",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    lake = args.out / "search_lake"
    passages_file = args.out / f"passages_{args.passages}.ndjson"
    queries_file = args.out / f"queries_{args.passages}.txt"

    if not passages_file.exists() or not queries_file.exists():
        cache = args.out / "docstring_paragraphs.json"
        if cache.exists():
            texts = json.loads(cache.read_text(encoding="utf-8"))
        else:
            print("collecting docstring paragraphs (a few minutes, once)...", flush=True)
            texts = docstring_paragraphs()
            cache.write_text(json.dumps(texts), encoding="utf-8")
        random.Random(args.seed).shuffle(texts)
        need = args.passages + args.queries
        if len(texts) < need:
            sys.exit(f"only {len(texts)} paragraphs found, {need} needed")
        with passages_file.open("w", encoding="utf-8") as f:
            for i, t in enumerate(texts[: args.passages]):
                f.write(json.dumps({"id": i, "text": t}) + "\n")
        with queries_file.open("w", encoding="utf-8") as f:
            for t in texts[args.passages : need]:
                f.write(json.dumps(first_sentence(t)) + "\n")

    if not args.skip_embed:
        if lake.exists() and not (lake / "lake.json").exists():
            shutil.rmtree(lake)
        if not (lake / "lake.json").exists():
            started = time.perf_counter()
            run(args.lakebook, lake, "ingest", str(passages_file), "--name", "passages")
            print(f"ingested {args.passages} passages in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        print(run(args.lakebook, lake, "embed", "passages", "--columns", "text").rstrip())
        print(f"embed + index: {time.perf_counter() - started:.1f} s")

    report = json.loads(
        run(args.lakebook, lake, "bench", "search", "passages", str(queries_file), "-k", str(args.k))
    )
    report["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
    (args.out / "search_speed.json").write_text(json.dumps(report, indent=2))
    ix, ex = report["indexed"], report["exact"]
    print(f"{report['rows']} passages, {report['queries']} queries, k={report['k']}")
    print(f"indexed search: p50 {ix['p50_ms']:.2f} ms  p95 {ix['p95_ms']:.2f} ms")
    print(f"exact search:   p50 {ex['p50_ms']:.2f} ms  p95 {ex['p95_ms']:.2f} ms")
    print(f"speed-up of the index (p50): {report['speedup_p50']:.1f}x")
    print(f"recall@{report['k']}: {report['recall_at_k']:.3f}")
    qe = report["query_embedding"]
    print(f"query embedding: p50 {qe['p50_ms']:.2f} ms")


if __name__ == "__main__":
    main()
