#!/usr/bin/env python3
"""Bounded resources: what must stay flat or linear as inputs grow.

Each part prints a ratio against a baseline measured in the same run:

1. `sql-head`: `lakebook sql "SELECT * FROM big" | head` on a dataset of
   --mb megabytes. Peak RSS against `SELECT count(*)` on the same dataset
   (what the process needs anyway); the full result streamed to /dev/null
   is reported too. Flat means the result is streamed, not held.
2. `values`: printing a table whose text cell holds 1 MB against one whose
   cell holds 1 KB (same rows, same columns). Near 1 means cost does not grow
   with the square of the value's length.
3. `notebook`: `lakebook run` of a notebook of --cells SQL cells, saving every
   output, against the same run with `--no-save`. Near 1 means saving is
   linear in the number of cells.
4. `files`: `lakebook ingest FOLDER` of --files small CSVs against the same
   for a tenth as many, per file. Near 1 means ingest is linear in the number
   of files (the catalog is not rewritten per file); lake.json's size is shown.

Usage:
    python3 bench/bounded.py                       # all parts, issue-sized inputs
    python3 bench/bounded.py --parts values,files  # some parts
    python3 bench/bounded.py --mb 1024 --cells 50000 --files 5000

Results go to bench/out/bounded.json (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

OUT = benchlib.ROOT / "bench" / "out"


def run(cmd: list[str], stdout=subprocess.DEVNULL, head_lines: int | None = None) -> tuple[float, float, str]:
    """Runs `cmd`; returns (seconds, peak RSS in MiB, first lines read when `head_lines`)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if head_lines else stdout, stderr=subprocess.PIPE)
    text = ""
    if head_lines:
        lines = []
        assert proc.stdout is not None
        for _ in range(head_lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.decode(errors="replace"))
        text = "".join(lines)
        proc.stdout.close()  # like `head`: the reader goes away
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not head_lines:
        sys.exit(f"error: {' '.join(cmd[:4])}… exited {code}: {stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def sql_head(lakebook: Path, work: Path, mb: int) -> dict:
    lake = work / "lake-big"
    csv = work / "big.csv"
    if not lake.exists():
        rng = random.Random(7)
        words = ["north", "south", "east", "west", "harbour", "station", "market", "field"]
        with csv.open("w") as f:
            f.write("id,amount,region,note\n")
            i = 0
            while f.tell() < mb * 1024 * 1024:
                for _ in range(10_000):
                    note = " ".join(rng.choice(words) for _ in range(12))
                    f.write(f"{i},{rng.random() * 1000:.3f},{rng.choice(words)},{note}\n")
                    i += 1
        run([str(lakebook), "--lake", str(lake), "ingest", str(csv), "--name", "big"])
        csv.unlink()
    size = sum(p.stat().st_size for p in lake.rglob("*") if p.is_file()) / 2**20
    base = run([str(lakebook), "--lake", str(lake), "sql", "SELECT count(*) FROM big"])
    head = run(
        [str(lakebook), "--lake", str(lake), "sql", "SELECT * FROM big", "--format", "csv"],
        head_lines=6,
    )
    full = run([str(lakebook), "--lake", str(lake), "sql", "SELECT * FROM big", "--format", "csv"])
    return {
        "dataset_mib": round(size, 1),
        "count_rss_mib": round(base[1], 1),
        "head_seconds": round(head[0], 3),
        "head_rss_mib": round(head[1], 1),
        "full_seconds": round(full[0], 3),
        "full_rss_mib": round(full[1], 1),
        "head_rss_ratio": round(head[1] / base[1], 2),
        "full_rss_ratio": round(full[1] / base[1], 2),
    }


def values(lakebook: Path, work: Path) -> dict:
    lake = work / "lake-values"
    shutil.rmtree(lake, ignore_errors=True)
    out = {}
    for label, length in (("kb", 1024), ("mb", 1024 * 1024)):
        path = work / f"value_{label}.csv"
        path.write_text("id,text\n" + "".join(f"{i},{'x' * length}\n" for i in range(3)))
        run([str(lakebook), "--lake", str(lake), "ingest", str(path)])
        times = [
            run([str(lakebook), "--lake", str(lake), "sql", f"SELECT * FROM value_{label}", "--format", "table"])[0]
            for _ in range(3)
        ]
        out[f"table_seconds_{label}"] = round(min(times), 3)
    out["ratio"] = round(out["table_seconds_mb"] / out["table_seconds_kb"], 2)
    return out


def notebook(lakebook: Path, work: Path, cells: int) -> dict:
    lake = work / "lake-nb"
    shutil.rmtree(lake, ignore_errors=True)
    run([str(lakebook), "--lake", str(lake), "init"])
    out = {}
    for mode in ("no_save", "save"):
        nb = work / f"nb_{mode}" / "many.lakebook.toml"
        shutil.rmtree(nb.parent, ignore_errors=True)
        nb.parent.mkdir()
        text = [f'format = 1\ntitle = "many"\nlake = "{lake}"\n']
        text += [f'\n[[cells]]\nid = "c{i}"\nkind = "sql"\nsql = "SELECT {i} AS n"\n' for i in range(cells)]
        nb.write_text("".join(text))
        cmd = [str(lakebook), "--lake", str(lake), "run", str(nb)]
        if mode == "no_save":
            cmd.append("--no-save")
        out[f"{mode}_seconds"] = round(run(cmd)[0], 2)
    out["ratio"] = round(out["save_seconds"] / out["no_save_seconds"], 2)
    return out


def files(lakebook: Path, work: Path, count: int) -> dict:
    out = {}
    for n in (count // 10, count):
        folder = work / f"files_{n}"
        lake = work / f"lake-files-{n}"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(lake, ignore_errors=True)
        folder.mkdir()
        for i in range(n):
            (folder / f"t{i:05}.csv").write_text(f"id,value\n1,{i}\n2,{i * 2}\n")
        seconds = run([str(lakebook), "--lake", str(lake), "ingest", str(folder)])[0]
        out[f"seconds_{n}"] = round(seconds, 2)
        out[f"per_file_ms_{n}"] = round(seconds / n * 1000, 2)
        out[f"catalog_kib_{n}"] = round((lake / "lake.json").stat().st_size / 1024, 1)
        shutil.rmtree(folder)
    out["ratio"] = round(out[f"per_file_ms_{count}"] / out[f"per_file_ms_{count // 10}"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lakebook", help="the lakebook binary (default: the cargo target folder's)")
    parser.add_argument("--parts", default="sql-head,values,notebook,files")
    parser.add_argument("--mb", type=int, default=1024, help="size of the CSV behind `big`")
    parser.add_argument("--cells", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--work", help="folder for data and lakes (default: a temp folder)")
    args = parser.parse_args()
    lakebook = benchlib.find_lakebook(args.lakebook, "nothing to measure")
    if lakebook is None:
        sys.exit(1)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="lakebook-bounded-"))
    work.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    results: dict = {"command": benchlib.command_line()}
    if "sql-head" in parts:
        r = results["sql_head"] = sql_head(lakebook, work, args.mb)
        print(
            f"sql | head on {r['dataset_mib']} MiB: peak RSS {r['head_rss_mib']} MiB in {r['head_seconds']} s "
            f"vs count(*) {r['count_rss_mib']} MiB: {benchlib.fmt_ratio(r['head_rss_ratio'])}; "
            f"whole result to /dev/null {r['full_rss_mib']} MiB in {r['full_seconds']} s: "
            f"{benchlib.fmt_ratio(r['full_rss_ratio'])}"
        )
    if "values" in parts:
        r = results["values"] = values(lakebook, work)
        print(
            f"table with a 1 MB value: {r['table_seconds_mb']} s vs 1 KB: {r['table_seconds_kb']} s: "
            f"{benchlib.fmt_ratio(r['ratio'])}"
        )
    if "notebook" in parts:
        r = results["notebook"] = notebook(lakebook, work, args.cells)
        print(
            f"run of {args.cells} cells saving outputs: {r['save_seconds']} s vs --no-save "
            f"{r['no_save_seconds']} s: {benchlib.fmt_ratio(r['ratio'])}"
        )
    if "files" in parts:
        r = results["files"] = files(lakebook, work, args.files)
        n, tenth = args.files, args.files // 10
        print(
            f"ingest of {n} files: {r[f'seconds_{n}']} s, {r[f'per_file_ms_{n}']} ms a file vs "
            f"{r[f'per_file_ms_{tenth}']} ms for {tenth} files: {benchlib.fmt_ratio(r['ratio'])}; "
            f"lake.json {r[f'catalog_kib_{n}']} KiB"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bounded.json").write_text(json.dumps(results, indent=2))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
