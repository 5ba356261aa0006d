#!/usr/bin/env python3
"""Lakebook ingest and SQL benchmark against pylance and DuckDB.

Measures, in one run so that the ratios compare like with like:

1. Ingest of a generated CSV (N rows, 10 mixed-type columns) into a Lance
   dataset: `pyarrow.csv.read_csv` + `lance.write_dataset` in a fresh Python
   process (the pylance baseline) versus `lakebook ingest`. Each runs as its
   own child process; wall time and the child's peak RSS (from os.wait4) are
   reported, with rows/s and the ratio lakebook/pylance (higher is better).
2. Three analytic SQL queries (group-by, join, filter + top-k) on DuckDB
   (in-memory tables, `SET threads=2`) versus `lakebook sql --timing`
   (the query time printed by Lakebook, excluding process start-up).
   1 warm-up + the median of --repeat runs each; the results of both engines
   are compared (floats to ~6 significant digits) and reported as MATCH or
   MISMATCH.

The generated CSVs are cached under OUT/data, the lakes go to OUT/lakes, and
all numbers are written to OUT/ingest_sql_<rows>rows.json (OUT defaults to
bench/out/, which git ignores). Missing Python packages (pylance, pyarrow,
duckdb, numpy) are installed with pip on first use.

Usage:
    python3 bench/ingest_sql.py --rows 1000000
    python3 bench/ingest_sql.py --rows 1000000 --lakebook target/release/lakebook
    python3 bench/ingest_sql.py --no-lakebook          # baselines only
    python3 bench/ingest_sql.py --skip-ingest          # reuse the lakes of a previous run
    python3 bench/ingest_sql.py --big                  # also ingest a ~2 GB CSV (Lakebook only)

Build Lakebook in release mode for numbers worth quoting; the default binary
path points at the debug build and the script warns when it uses one.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LAKEBOOK = Path.home() / ".cache" / "lakebook-target" / "debug" / "lakebook"
DEFAULT_OUT = REPO / "bench" / "out"

# Bump when the generated data changes, so cached CSVs are regenerated.
GENERATOR_VERSION = 2
SEED = 20240601
BLOCK_ROWS = 500_000  # rows per generated block; data is identical whatever N is
CUSTOMERS = 100_000
# Orders reference customer ids up to this bound, so ~9% find no customer in the join.
MAX_CUSTOMER_ID = 110_000
BIG_ROWS = 25_000_000  # ~2.0 GB at ~80 bytes per row

CATEGORIES = [
    "books", "electronics", "garden", "grocery", "health", "home",
    "jewelry", "music", "outdoors", "sports", "toys", "video_games",
]
CITIES = [
    "Amsterdam", "Athens", "Barcelona", "Berlin", "Bern", "Bordeaux", "Bratislava",
    "Brussels", "Bucharest", "Budapest", "Cologne", "Copenhagen", "Dublin",
    "Edinburgh", "Florence", "Frankfurt", "Geneva", "Ghent", "Glasgow", "Gothenburg",
    "Graz", "Hamburg", "Helsinki", "Krakow", "Leipzig", "Lille", "Lisbon",
    "Ljubljana", "London", "Luxembourg", "Lyon", "Madrid", "Malmo", "Manchester",
    "Marseille", "Milan", "Munich", "Naples", "Nice", "Oslo", "Paris", "Porto",
    "Prague", "Riga", "Rome", "Rotterdam", "Seville", "Stockholm", "Tallinn",
    "Vienna",
]
SEGMENTS = ["consumer", "corporate", "home_office", "small_business", "public_sector"]
COUNTRIES = [
    "AT", "BE", "CH", "CZ", "DE", "DK", "ES", "FI", "FR", "GB",
    "HU", "IE", "IT", "NL", "NO", "PL", "PT", "SE",
]
ORDER_COLUMNS = [
    "id", "customer_id", "order_ts", "order_date", "category",
    "amount", "qty", "is_member", "city", "score",
]

QUERIES = {
    "group_by": (
        "SELECT category, count(*) AS n, avg(amount) AS avg_amount, sum(qty) AS units "
        "FROM orders GROUP BY category ORDER BY category"
    ),
    "join": (
        "SELECT c.segment, count(*) AS n, sum(o.amount) AS revenue "
        "FROM orders o JOIN customers c ON o.customer_id = c.customer_id "
        "GROUP BY c.segment ORDER BY c.segment"
    ),
    "filter_topk": (
        "SELECT id, amount, city FROM orders WHERE qty > 5 AND is_member "
        "ORDER BY amount DESC, id LIMIT 10"
    ),
}

PIP_PACKAGES = {"lance": "pylance", "pyarrow": "pyarrow", "duckdb": "duckdb", "numpy": "numpy"}

# The pylance baseline, run in a fresh interpreter. It reports its own timings
# (excluding interpreter start-up and imports) as JSON on stdout.
PYLANCE_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import pyarrow.csv
import lance
t1 = time.perf_counter()
table = pyarrow.csv.read_csv(sys.argv[1])
t2 = time.perf_counter()
lance.write_dataset(table, sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"rows": table.num_rows, "import_s": t1 - t0, "read_s": t2 - t1,
                  "write_s": t3 - t2, "in_process_s": t3 - t1}))
"""


# --------------------------------------------------------------------------- setup


def ensure_python_deps() -> None:
    """Installs the Python packages the benchmark needs when any is missing."""
    missing = []
    for module, package in PIP_PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    if not missing:
        return
    print(f"installing missing Python packages: {' '.join(missing)}", flush=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *PIP_PACKAGES.values()], check=True
    )
    importlib.invalidate_caches()
    for module in PIP_PACKAGES:
        importlib.import_module(module)


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("pylance", "pyarrow", "duckdb", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out


def machine_info() -> dict:
    mem_kib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except OSError:
        pass
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
        "cpu": cpu,
        "mem_total_gib": round(mem_kib / 1024**2, 1) if mem_kib else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# ------------------------------------------------------------------- data generation


def order_block(block: int, keep: int):
    """The first `keep` rows of block `block` (BLOCK_ROWS rows) of the orders table.

    Each block has its own seeded generator and is always drawn in full, so a
    row only depends on its position: the first N rows are the same whatever
    the file size.
    """
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng([SEED, block])
    n = BLOCK_ROWS
    start_id = block * BLOCK_ROWS + 1
    ids = np.arange(start_id, start_id + n, dtype=np.int64)
    customer_id = rng.integers(1, MAX_CUSTOMER_ID + 1, n, dtype=np.int64)
    # Seconds across 2022-01-01 .. 2024-12-31 (1096 days).
    base = np.datetime64("2022-01-01T00:00:00", "s").astype(np.int64)
    ts = base + rng.integers(0, 1096 * 86_400, n, dtype=np.int64)
    order_ts = ts.astype("datetime64[s]")
    order_date = order_ts.astype("datetime64[D]")
    category = rng.integers(0, len(CATEGORIES), n, dtype=np.int32)
    # Log-normal amounts, rounded to cents.
    amount = np.round(np.exp(rng.normal(3.5, 1.0, n)), 2)
    qty = rng.integers(1, 11, n, dtype=np.int64)
    is_member = rng.random(n) < 0.35
    city = rng.integers(0, len(CITIES), n, dtype=np.int32)
    score = np.round(rng.random(n) * 100.0, 4)
    table = pa.table(
        {
            "id": pa.array(ids),
            "customer_id": pa.array(customer_id),
            "order_ts": pa.array(order_ts),
            "order_date": pa.array(order_date),
            "category": pa.DictionaryArray.from_arrays(
                pa.array(category), pa.array(CATEGORIES)
            ),
            "amount": pa.array(amount),
            "qty": pa.array(qty),
            "is_member": pa.array(is_member),
            "city": pa.DictionaryArray.from_arrays(pa.array(city), pa.array(CITIES)),
            "score": pa.array(score),
        }
    )
    return table.slice(0, keep)


def customers_table():
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng([SEED, 1_000_000])
    n = CUSTOMERS
    return pa.table(
        {
            "customer_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "segment": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(SEGMENTS), n, dtype=np.int32)), pa.array(SEGMENTS)
            ),
            "country": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(COUNTRIES), n, dtype=np.int32)), pa.array(COUNTRIES)
            ),
        }
    )


def _write_csv_blocks(path: Path, header: list[str], blocks) -> None:
    """Writes tables to path as one CSV with an unquoted header, atomically."""
    import pyarrow.csv as pacsv

    tmp = path.with_name(path.name + ".partial")
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with open(tmp, "wb") as f:
        f.write((",".join(header) + "\n").encode())
        for table in blocks:
            pacsv.write_csv(table, f, options)
    os.replace(tmp, path)


def ensure_orders_csv(data_dir: Path, rows: int) -> Path:
    """The orders CSV with `rows` rows, generated (streamed by blocks) unless cached."""
    path = data_dir / f"orders_{rows}_v{GENERATOR_VERSION}.csv"
    if path.exists():
        print(f"using cached {path} ({path.stat().st_size / 1e6:.0f} MB)", flush=True)
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"generating {rows:,} orders -> {path} ...", end=" ", flush=True)
    started = time.perf_counter()

    def blocks():
        done, block = 0, 0
        while done < rows:
            n = min(BLOCK_ROWS, rows - done)
            yield order_block(block, n)
            done += n
            block += 1

    _write_csv_blocks(path, ORDER_COLUMNS, blocks())
    print(
        f"{time.perf_counter() - started:.1f} s, {path.stat().st_size / 1e6:.0f} MB", flush=True
    )
    return path


def ensure_customers_csv(data_dir: Path) -> Path:
    path = data_dir / f"customers_v{GENERATOR_VERSION}.csv"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_csv_blocks(path, ["customer_id", "segment", "country"], [customers_table()])
    return path


# ---------------------------------------------------------------- child processes


# A lean launcher for the measured commands. ru_maxrss of a process includes
# the memory of the process it was forked (or vforked) from, because Linux
# folds the pre-exec address space into the high-water mark at exec. Forking
# the measured command straight from this script (with numpy, pyarrow and
# DuckDB loaded) would report this script's RSS for any child smaller than it.
# So a fresh interpreter with nothing imported (~8 MiB) spawns the command and
# reaps it with os.wait4, and ru_maxrss is the command's own peak RSS (KiB on
# Linux), floored at the launcher's size (reported as rss_floor_kib).
LAUNCHER = r"""
import os, sys, time
result, cmd = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, rusage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(result, "w") as f:
    f.write("%d %.6f %d\n" % (os.waitstatus_to_exitcode(status), wall, rusage.ru_maxrss))
"""


def run_measured(cmd: list[str]) -> dict:
    """Runs cmd as a child process; returns wall time, peak RSS (KiB), rc, output.

    The output goes to temporary files, so no pipe can fill up and stall the
    child. Wall time is from spawn to reap, measured in the launcher.
    """
    with tempfile.TemporaryDirectory(prefix="lakebook-bench-") as tmp:
        result_path = Path(tmp) / "result"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            launcher = subprocess.run(
                [sys.executable, "-I", "-S", "-c", LAUNCHER, str(result_path), *map(str, cmd)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            )
        stdout, stderr = out_path.read_bytes(), err_path.read_bytes()
        if launcher.returncode != 0 or not result_path.exists():
            sys.exit(f"error: could not run {cmd[0]} (launcher exit {launcher.returncode}):\n"
                     f"{stderr.decode(errors='replace')[-4000:]}")
        rc, wall, maxrss = result_path.read_text().split()
    return {
        "cmd": [str(c) for c in cmd],
        "rc": int(rc),
        "wall_s": float(wall),
        "peak_rss_kib": int(maxrss),
        "stdout": stdout.decode(errors="replace"),
        "stderr": stderr.decode(errors="replace"),
    }


def check_ok(result: dict, what: str) -> None:
    if result["rc"] != 0:
        sys.exit(
            f"error: {what} failed (exit {result['rc']}): {' '.join(map(str, result['cmd']))}\n"
            f"--- stdout\n{result['stdout'][-4000:]}\n--- stderr\n{result['stderr'][-4000:]}"
        )


def find_lakebook(path: str, needed: bool) -> Path | None:
    """The Lakebook binary, or None (with a clear message) when it is not there."""
    binary = Path(os.path.expanduser(path))
    if binary.is_file() and os.access(binary, os.X_OK):
        if "debug" in binary.parts:
            print(
                f"WARNING: {binary} looks like a debug build; build with --release "
                "for numbers worth quoting",
                flush=True,
            )
        return binary
    if needed:
        sys.exit(
            f"error: the Lakebook binary was not found at {binary}.\n"
            "  Build it (e.g. `cargo build --release -p lakebook`), pass its path with "
            "--lakebook PATH,\n  or run only the pylance/DuckDB baselines with --no-lakebook."
        )
    return None


# ------------------------------------------------------------------------- ingest


def rows_per_s(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else float("nan")


def ingest_pylance(csv_path: Path, lance_dir: Path, rows: int) -> dict:
    shutil.rmtree(lance_dir, ignore_errors=True)
    lance_dir.parent.mkdir(parents=True, exist_ok=True)
    result = run_measured([sys.executable, "-c", PYLANCE_CHILD, str(csv_path), str(lance_dir)])
    check_ok(result, "the pylance ingest")
    inner = json.loads(result["stdout"].strip().splitlines()[-1])
    if inner["rows"] != rows:
        sys.exit(f"error: pylance read {inner['rows']} rows, expected {rows}")
    return {
        "wall_s": result["wall_s"],
        "in_process_s": inner["in_process_s"],
        "import_s": inner["import_s"],
        "read_csv_s": inner["read_s"],
        "write_dataset_s": inner["write_s"],
        "peak_rss_kib": result["peak_rss_kib"],
        "rows_per_s_wall": rows_per_s(rows, result["wall_s"]),
        "rows_per_s_in_process": rows_per_s(rows, inner["in_process_s"]),
    }


def ingest_lakebook(binary: Path, lake: Path, csv_path: Path, name: str, rows: int) -> dict:
    cmd = [str(binary), "--lake", str(lake), "ingest", str(csv_path), "--name", name]
    result = run_measured(cmd)
    check_ok(result, f"lakebook ingest of {csv_path.name}")
    m = re.search(r"\+(\d+) rows", result["stdout"])
    if m and int(m.group(1)) != rows:
        sys.exit(f"error: lakebook ingested {m.group(1)} rows of {csv_path.name}, expected {rows}")
    return {
        "wall_s": result["wall_s"],
        "peak_rss_kib": result["peak_rss_kib"],
        "rows_per_s_wall": rows_per_s(rows, result["wall_s"]),
        "report": result["stdout"].strip(),
    }


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (the upper median for even counts)."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["runs_wall_s"] = [r["wall_s"] for r in runs]
    chosen["max_peak_rss_kib"] = max(r["peak_rss_kib"] for r in runs)
    return chosen


def bench_ingest(args, binary, orders_csv, customers_csv, lakes: Path, rows: int) -> dict:
    out: dict = {"rows": rows, "csv_bytes": orders_csv.stat().st_size, "runs": args.ingest_runs}
    pylance_runs, lakebook_runs = [], []
    lakebook_lake = lakes / "lakebook"
    (lakes / "lakebook.rows").unlink(missing_ok=True)
    for i in range(args.ingest_runs):
        print(f"ingest run {i + 1}/{args.ingest_runs}: pylance ...", end=" ", flush=True)
        r = ingest_pylance(orders_csv, lakes / "pylance" / "orders.lance", rows)
        pylance_runs.append(r)
        print(f"{r['wall_s']:.2f} s, {r['peak_rss_kib'] / 1024:.0f} MiB", end="", flush=True)
        if binary:
            # A fresh lake each run, so every run is a `create` of the same size.
            shutil.rmtree(lakebook_lake, ignore_errors=True)
            print("; lakebook ...", end=" ", flush=True)
            r = ingest_lakebook(binary, lakebook_lake, orders_csv, "orders", rows)
            lakebook_runs.append(r)
            print(f"{r['wall_s']:.2f} s, {r['peak_rss_kib'] / 1024:.0f} MiB", end="", flush=True)
        print(flush=True)
    out["pylance"] = median_run(pylance_runs)
    if binary:
        out["lakebook"] = median_run(lakebook_runs)
        customers = ingest_lakebook(binary, lakebook_lake, customers_csv, "customers", CUSTOMERS)
        out["lakebook_customers"] = customers
        # Remember what the lake holds, for --skip-ingest.
        (lakes / "lakebook.rows").write_text(f"{rows}\n")
        lb, pl = out["lakebook"], out["pylance"]
        # Headline: against pylance's in-process time (interpreter start-up and
        # imports excluded), while Lakebook's time is its whole process: the
        # conservative comparison for Lakebook.
        out["ratio_rows_per_s_vs_in_process"] = lb["rows_per_s_wall"] / pl["rows_per_s_in_process"]
        out["ratio_rows_per_s_vs_wall"] = lb["rows_per_s_wall"] / pl["rows_per_s_wall"]
    return out


def bench_big(args, binary: Path, data_dir: Path, lakes: Path) -> dict:
    big_csv = ensure_orders_csv(data_dir, BIG_ROWS)
    lake = lakes / "lakebook_big"
    shutil.rmtree(lake, ignore_errors=True)
    print(f"big ingest: lakebook, {big_csv.stat().st_size / 1e9:.2f} GB ...", end=" ", flush=True)
    r = ingest_lakebook(binary, lake, big_csv, "orders", BIG_ROWS)
    print(f"{r['wall_s']:.1f} s, peak RSS {r['peak_rss_kib'] / 1024:.0f} MiB", flush=True)
    r.update({"rows": BIG_ROWS, "csv_bytes": big_csv.stat().st_size,
              "peak_rss_under_1_gib": r["peak_rss_kib"] < 1024 * 1024})
    if not args.keep_big_lake:
        shutil.rmtree(lake, ignore_errors=True)
    return r


# ---------------------------------------------------------------------------- SQL


def _parse_number(cell: str):
    try:
        return float(cell)
    except ValueError:
        return None


def normalize_cell(value) -> str:
    """One result value as text: booleans lower-case, numbers to 6 significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return f"{float(value):.6g}"
    text = str(value)
    number = _parse_number(text)
    if number is not None and text.strip().lower() not in ("nan", "inf", "-inf", "infinity"):
        return f"{number:.6g}"
    return text


def cells_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    x, y = _parse_number(a), _parse_number(b)
    return x is not None and y is not None and math.isclose(x, y, rel_tol=2e-6, abs_tol=1e-9)


def compare_results(expected: list[list[str]], actual: list[list[str]]) -> tuple[bool, str]:
    """Compares normalized CSV rows (header first); returns (match, first difference)."""
    if len(expected) != len(actual):
        return False, f"{len(expected) - 1} rows (duckdb) vs {len(actual) - 1} rows (lakebook)"
    for i, (e, a) in enumerate(zip(expected, actual)):
        if i == 0:
            if [c.lower() for c in e] != [c.lower() for c in a]:
                return False, f"header {e} vs {a}"
            continue
        if len(e) != len(a) or not all(cells_equal(x, y) for x, y in zip(e, a)):
            return False, f"row {i}: {e} (duckdb) vs {a} (lakebook)"
    return True, ""


def duckdb_connect(orders_csv: Path, customers_csv: Path):
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET threads=2")
    print("duckdb: loading the CSVs (not timed) ...", end=" ", flush=True)
    started = time.perf_counter()
    con.execute(f"CREATE TABLE orders AS SELECT * FROM read_csv_auto('{orders_csv}')")
    con.execute(f"CREATE TABLE customers AS SELECT * FROM read_csv_auto('{customers_csv}')")
    print(f"{time.perf_counter() - started:.1f} s", flush=True)
    return con


def duckdb_connect_on_files(orders_csv: Path, customers_csv: Path):
    """DuckDB querying the CSV files themselves (views over read_csv_auto):
    "DuckDB on the same file", every query reads the file."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET threads=2")
    con.execute(f"CREATE VIEW orders AS SELECT * FROM read_csv_auto('{orders_csv}')")
    con.execute(f"CREATE VIEW customers AS SELECT * FROM read_csv_auto('{customers_csv}')")
    return con


def duckdb_query(con, sql: str, repeat: int) -> tuple[list[float], list[list[str]]]:
    con.execute(sql).fetchall()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        cursor = con.execute(sql)
        rows = cursor.fetchall()
        times.append((time.perf_counter() - started) * 1e3)
    header = [d[0] for d in cursor.description]
    return times, [header] + [[normalize_cell(v) for v in row] for row in rows]


TIMING_LINE = re.compile(r"(\d+) rows? in ([0-9.]+) ms")


def lakebook_query(binary: Path, lake: Path, sql: str, repeat: int):
    """Runs the query warm-up + repeat times; returns (ms list, wall ms list, rows, rss)."""
    cmd = [str(binary), "--lake", str(lake), "sql", sql, "--timing", "--format", "csv"]
    times, walls, rss, rows = [], [], [], None
    for i in range(repeat + 1):
        r = run_measured(cmd)
        check_ok(r, "lakebook sql")
        m = TIMING_LINE.search(r["stderr"])
        if not m:
            sys.exit(f"error: no 'N rows in X ms' line in lakebook's stderr:\n{r['stderr']}")
        if i == 0:  # warm-up
            text = r["stdout"]
            rows = [[normalize_cell(c) for c in row]
                    for row in csv.reader(io.StringIO(text)) if row]
            if len(rows) - 1 != int(m.group(1)):
                sys.exit(f"error: lakebook printed {len(rows) - 1} rows but reported {m.group(1)}")
            continue
        times.append(float(m.group(2)))
        walls.append(r["wall_s"] * 1e3)
        rss.append(r["peak_rss_kib"])
    return times, walls, rows, max(rss) if rss else None


def lakebook_query_warm(binary: Path, lake: Path, sql: str, repeat: int) -> list[float]:
    """Runs the query 1 + repeat times in ONE lakebook session (`sql --repeat`), as a
    notebook does: the first run decodes the Lance columns into the session cache,
    the others read them from memory. Returns the times of the repeat warm runs."""
    cmd = [str(binary), "--lake", str(lake), "sql", sql, "--timing", "--format", "csv",
           "--repeat", str(repeat + 1)]
    r = run_measured(cmd)
    check_ok(r, "lakebook sql --repeat")
    times = [float(m.group(2)) for m in TIMING_LINE.finditer(r["stderr"])]
    if len(times) != repeat + 1:
        sys.exit(f"error: expected {repeat + 1} timing lines from lakebook:\n{r['stderr']}")
    return times[1:]


def bench_sql(args, binary, orders_csv: Path, customers_csv: Path, lake: Path) -> dict:
    con = duckdb_connect(orders_csv, customers_csv)
    on_files = duckdb_connect_on_files(orders_csv, customers_csv)
    out = {}
    for name, sql in QUERIES.items():
        print(f"query {name}: duckdb ...", end=" ", flush=True)
        d_times, d_rows = duckdb_query(con, sql, args.repeat)
        entry = {
            "sql": sql,
            "duckdb_ms": statistics.median(d_times),
            "duckdb_runs_ms": d_times,
            "result_rows": len(d_rows) - 1,
        }
        f_times, _ = duckdb_query(on_files, sql, args.repeat)
        entry["duckdb_on_csv_ms"] = statistics.median(f_times)
        print(f"{entry['duckdb_ms']:.1f} ms (on the CSV: {entry['duckdb_on_csv_ms']:.1f} ms)",
              end="", flush=True)
        if binary:
            print("; lakebook ...", end=" ", flush=True)
            l_times, l_walls, l_rows, rss = lakebook_query(binary, lake, sql, args.repeat)
            match, diff = compare_results(d_rows, l_rows)
            entry.update({
                "lakebook_ms": statistics.median(l_times),
                "lakebook_runs_ms": l_times,
                "lakebook_process_wall_ms": statistics.median(l_walls),
                "lakebook_peak_rss_kib": rss,
                "ratio_lakebook_vs_duckdb": statistics.median(l_times) / statistics.median(d_times),
                "results_match": match,
            })
            if not match:
                entry["difference"] = diff
            warm = lakebook_query_warm(binary, lake, sql, args.repeat)
            entry.update({
                "lakebook_warm_ms": statistics.median(warm),
                "lakebook_warm_runs_ms": warm,
                "ratio_warm_vs_duckdb": statistics.median(warm) / statistics.median(d_times),
                "ratio_cold_vs_duckdb_on_csv": entry["lakebook_ms"] / entry["duckdb_on_csv_ms"],
            })
            print(f"{entry['lakebook_ms']:.1f} ms cold, {entry['lakebook_warm_ms']:.1f} ms warm, "
                  f"{'MATCH' if match else 'MISMATCH'}", end="", flush=True)
        print(flush=True)
        if args.show_results:
            for row in d_rows:
                print("    " + ",".join(row))
        out[name] = entry
    con.close()
    on_files.close()
    return out


# ------------------------------------------------------------------------- report


def fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:,.0f} MiB"


def print_summary(results: dict) -> None:
    print()
    print("=" * 78)
    m, v = results["machine"], results["versions"]
    print(f"machine: nproc={m['nproc']}, {m['cpu']}, {m['mem_total_gib']} GiB RAM")
    print("versions: " + ", ".join(f"{k} {v[k]}" for k in ("pylance", "pyarrow", "duckdb", "numpy")))
    print(f"lakebook: {results['lakebook_binary'] or '(not run)'}")
    print(f"peak RSS is the child's ru_maxrss via a lean launcher "
          f"(floor {fmt_mib(results['rss_floor_kib'])}, measured with `true`)")
    print("=" * 78)

    ing = results.get("ingest")
    if ing:
        rows = ing["rows"]
        print(f"\nIngest: {rows:,} rows, {ing['csv_bytes'] / 1e6:.0f} MB CSV "
              f"(median of {ing['runs']} run{'s' if ing['runs'] != 1 else ''})")
        print(f"  {'engine':<28}{'time s':>10}{'rows/s':>14}{'peak RSS':>14}")
        pl = ing["pylance"]
        print(f"  {'pylance (process wall)':<28}{pl['wall_s']:>10.2f}"
              f"{fmt_rate(pl['rows_per_s_wall']):>14}{fmt_mib(pl['peak_rss_kib']):>14}")
        print(f"  {'pylance (read+write only)':<28}{pl['in_process_s']:>10.2f}"
              f"{fmt_rate(pl['rows_per_s_in_process']):>14}{'':>14}")
        lb = ing.get("lakebook")
        if lb:
            print(f"  {'lakebook (process wall)':<28}{lb['wall_s']:>10.2f}"
                  f"{fmt_rate(lb['rows_per_s_wall']):>14}{fmt_mib(lb['peak_rss_kib']):>14}")
            r1 = ing["ratio_rows_per_s_vs_in_process"]
            r2 = ing["ratio_rows_per_s_vs_wall"]
            print(f"  ratio lakebook/pylance rows/s: {r1:.2f} vs read+write only "
                  f"({'OK' if r1 >= 1.0 else 'below'} target >= 1.0), {r2:.2f} vs process wall")
    elif results.get("ingest_skipped"):
        print("\nIngest: skipped (--skip-ingest)")

    big = results.get("big")
    if big:
        print(f"\nBig ingest (lakebook only): {big['rows']:,} rows, {big['csv_bytes'] / 1e9:.2f} GB: "
              f"{big['wall_s']:.1f} s, {fmt_rate(big['rows_per_s_wall'])} rows/s, "
              f"peak RSS {fmt_mib(big['peak_rss_kib'])} "
              f"({'OK' if big['peak_rss_under_1_gib'] else 'over'} target < 1 GiB)")

    sql = results.get("sql")
    if sql:
        print(f"\nSQL: median of {results['config']['repeat']} runs after 1 warm-up, 2 threads "
              "(lakebook: its --timing query time)")
        print("  cold = a fresh lakebook process per query, decoding Lance from disk;")
        print("  warm = one session (`sql --repeat`), columns cached in memory as in the notebook;")
        print("  duckdb = in-memory tables loaded before timing; on csv = DuckDB querying the CSV file.")
        print(f"  {'query':<14}{'on csv ms':>10}{'duckdb ms':>11}{'cold ms':>10}{'ratio':>8}{'warm ms':>10}{'ratio':>8}  {'result':<9}")
        for name, q in sql.items():
            lb_ms = q.get("lakebook_ms")
            ratio = q.get("ratio_lakebook_vs_duckdb")
            warm = q.get("lakebook_warm_ms")
            wratio = q.get("ratio_warm_vs_duckdb")
            match = q.get("results_match")
            print(f"  {name:<14}{q['duckdb_on_csv_ms']:>10.1f}{q['duckdb_ms']:>11.1f}"
                  f"{'-' if lb_ms is None else f'{lb_ms:.1f}':>10}"
                  f"{'-' if ratio is None else f'{ratio:.2f}':>8}"
                  f"{'-' if warm is None else f'{warm:.1f}':>10}"
                  f"{'-' if wratio is None else f'{wratio:.2f}':>8}  "
                  f"{'-' if match is None else ('MATCH' if match else 'MISMATCH'):<9}")
            if q.get("difference"):
                print(f"      {q['difference']}")
        if any("ratio_lakebook_vs_duckdb" in q for q in sql.values()):
            worst = max(q["ratio_lakebook_vs_duckdb"] for q in sql.values())
            worst_warm = max(q["ratio_warm_vs_duckdb"] for q in sql.values())
            print(f"  worst ratio lakebook/duckdb: cold {worst:.2f}, warm {worst_warm:.2f} "
                  f"({'OK' if worst_warm <= 1.5 else 'above'} target <= 1.5)")
    print()


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Benchmark Lakebook ingest and SQL against pylance and DuckDB.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the orders CSV")
    p.add_argument("--lakebook", default=str(DEFAULT_LAKEBOOK), help="the Lakebook binary")
    p.add_argument("--no-lakebook", action="store_true", help="run only the pylance and DuckDB baselines")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="work dir: data, lakes and the JSON results")
    p.add_argument("--big", action="store_true",
                   help=f"also ingest a ~2 GB CSV ({BIG_ROWS:,} rows) with Lakebook and report its peak RSS")
    p.add_argument("--keep-big-lake", action="store_true", help="keep the lake of --big (it is large)")
    p.add_argument("--skip-ingest", action="store_true", help="reuse the lakes of a previous run")
    p.add_argument("--skip-sql", action="store_true", help="skip the SQL queries")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per query (after 1 warm-up)")
    p.add_argument("--ingest-runs", type=int, default=1, help="ingest runs per engine (median reported)")
    p.add_argument("--show-results", action="store_true", help="print each query's result")
    args = p.parse_args(argv)
    if args.rows < 1 or args.repeat < 1 or args.ingest_runs < 1:
        p.error("--rows, --repeat and --ingest-runs must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    ensure_python_deps()
    binary = None if args.no_lakebook else find_lakebook(args.lakebook, needed=True)
    if args.big and binary is None:
        sys.exit("error: --big measures Lakebook only; it cannot run with --no-lakebook")

    out_dir = args.out.resolve()
    data_dir, lakes = out_dir / "data", out_dir / "lakes"
    out_dir.mkdir(parents=True, exist_ok=True)

    results: dict = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "versions": package_versions(),
        "lakebook_binary": str(binary) if binary else None,
        "config": {"rows": args.rows, "repeat": args.repeat, "ingest_runs": args.ingest_runs,
                   "big": args.big, "seed": SEED, "generator_version": GENERATOR_VERSION,
                   "customers": CUSTOMERS, "duckdb_threads": 2},
    }
    results["rss_floor_kib"] = run_measured(["true"])["peak_rss_kib"]
    m, v = results["machine"], results["versions"]
    if m["loadavg_at_start"][0] > 0.5 * (m["nproc"] or 1):
        print(f"WARNING: load average {m['loadavg_at_start'][0]:.2f} on {m['nproc']} cores: "
              "other work is running and will skew the timings", flush=True)
    print(f"nproc={m['nproc']}; pylance {v['pylance']}, pyarrow {v['pyarrow']}, "
          f"duckdb {v['duckdb']}, numpy {v['numpy']}", flush=True)

    orders_csv = ensure_orders_csv(data_dir, args.rows)
    customers_csv = ensure_customers_csv(data_dir)

    if args.skip_ingest:
        results["ingest_skipped"] = True
        if binary:
            marker = lakes / "lakebook.rows"
            held = marker.read_text().strip() if marker.exists() else None
            if not (lakes / "lakebook").is_dir() or held is None:
                sys.exit(f"error: --skip-ingest but there is no Lakebook lake at {lakes / 'lakebook'}; "
                         "run once without --skip-ingest")
            if held != str(args.rows):
                sys.exit(f"error: --skip-ingest: the lake at {lakes / 'lakebook'} holds {held} rows, "
                         f"not --rows {args.rows}; run once without --skip-ingest")
    else:
        results["ingest"] = bench_ingest(args, binary, orders_csv, customers_csv, lakes, args.rows)

    if args.big:
        results["big"] = bench_big(args, binary, data_dir, lakes)

    if not args.skip_sql:
        results["sql"] = bench_sql(args, binary, orders_csv, customers_csv, lakes / "lakebook")

    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    json_path = out_dir / f"ingest_sql_{args.rows}rows.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    print_summary(results)
    print(f"results written to {json_path}")
    mismatches = [n for n, q in results.get("sql", {}).items() if q.get("results_match") is False]
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
