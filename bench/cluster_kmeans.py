#!/usr/bin/env python3
"""k-means: Lakebook's against scikit-learn's, on a planted Gaussian mixture.

The data: --rows vectors of --dims float32 values (default 100,000 × 384, the
size of a lake's sentence embeddings) drawn from a mixture of --clusters
Gaussians with known labels. Centres have coordinates N(0, spread²); each
cluster has its own standard deviation, uniform in [0.6, 1.4]; cluster
weights are Dirichlet(5), so sizes differ. Everything is seeded by
--data-seed. The mixture is written once, as raw little-endian f32 row after
row (`vectors.f32`) with one planted label per line (`labels.txt`) and the
parameters (`meta.json`), in
~/.cache/lakebook-bench/cluster/mixture-ROWSxDIMS-cCLUSTERS-sSPREAD-seedSEED/.

Methods, each run --runs times with seeds seed, seed+1, …:

* scikit-learn `KMeans(n_clusters=k, n_init=1, max_iter=M, tol=1e-4,
  algorithm="lloyd", random_state=seed)` on --threads threads
  (OMP_NUM_THREADS and threadpoolctl); the time is that of `fit` alone.
* Lakebook: `LAKEBOOK bench kmeans --vectors FILE --rows N --dims D --k K
  --max-iter M --seed S`, which prints a JSON object {seconds, inertia,
  iterations, ari?, nmi?}; `seconds` is the fit alone (loading excluded).
  It runs pinned to --threads CPUs (sched_setaffinity), so both sides get
  the same cores. --lakebook-extra adds arguments; `{labels}` and
  `{vectors}` in it are replaced by the files' paths (for example
  `--lakebook-extra "--truth {labels}"` when the command scores itself).
* For reference, scikit-learn's HDBSCAN on a --hdbscan-sample row sample
  (default 20,000), on the raw vectors and, with --hdbscan-pca P (default
  50), after a PCA to P dimensions. Its noise points count as one more
  cluster in ARI and NMI.

Reported: the median time, mean inertia (scikit-learn's recomputed in
float64 from its labels and centres), iterations, and ARI and NMI against the
planted labels; and two targets for Lakebook against scikit-learn: time ≤
1.0× and mean inertia within 1%. Different seeds reach different local
minima (single runs differ by a few per cent), hence several runs.

The results go to stdout as markdown and, when the Lakebook binary ran, to
--out (bench/CLUSTER_RESULTS.md).

The Python side needs scikit-learn and numpy. They live in a virtual
environment, by default ~/.cache/lakebook-bench/cluster-venv: the script
creates it when missing (pip install scikit-learn numpy, network needed once)
and re-runs itself with its interpreter. --no-venv uses the current Python.

Usage:
    cargo build --release
    python3 bench/cluster_kmeans.py --lakebook target/release/lakebook
    python3 bench/cluster_kmeans.py --lakebook target/release/lakebook \\
        --k 20 --max-iter 100 --runs 5 --spread 0.5
    python3 bench/cluster_kmeans.py --no-hdbscan       # scikit-learn side only
                                                       # when no binary is found
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path.home() / ".cache" / "lakebook-bench"
DATA_ROOT = CACHE / "cluster"
DEFAULT_VENV = CACHE / "cluster-venv"
# Set when the script re-runs itself inside the virtual environment.
IN_VENV_FLAG = "LAKEBOOK_CLUSTER_BENCH_IN_VENV"
COMMAND_ENV = "LAKEBOOK_CLUSTER_BENCH_COMMAND"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
LAKEBOOK_TIMEOUT_S = 3600
GENERATION_CHUNK_ROWS = 50_000


# --------------------------------------------------------------------------
# Virtual environment and threads


def ensure_venv(venv: Path) -> None:
    """Re-runs this script with the venv's Python, creating the venv first."""
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve() or os.environ.get(IN_VENV_FLAG):
        return
    if not python.exists():
        print(f"creating {venv} (scikit-learn, numpy) ...", file=sys.stderr)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "scikit-learn", "numpy"],
            check=True,
        )
    env = dict(os.environ)
    env[IN_VENV_FLAG] = "1"
    env.setdefault(COMMAND_ENV, command_line())
    os.execve(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]], env)


def command_line() -> str:
    script = Path(sys.argv[0])
    try:
        script = script.resolve().relative_to(Path.cwd())
    except ValueError:
        pass
    return shlex.join(["python3", str(script), *sys.argv[1:]])


def limit_threads(threads: int) -> None:
    """Must run before numpy is imported: BLAS/OpenMP read these at load."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def pinned_cpus(threads: int) -> set[int] | None:
    """The first `threads` CPUs this process may use (None where affinity is
    not available)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return set(allowed[:threads]) if len(allowed) > threads else None


def import_libraries():
    try:
        import numpy
        import sklearn
        from threadpoolctl import threadpool_limits
    except ImportError as err:
        sys.exit(f"error: {err}. Install them with `pip install scikit-learn numpy` "
                 f"or run without --no-venv.")
    return numpy, sklearn, threadpool_limits


# --------------------------------------------------------------------------
# Data


@dataclass
class Mixture:
    directory: Path
    vectors: Path
    labels: Path
    rows: int
    dims: int
    clusters: int
    spread: float
    seed: int

    def description(self) -> str:
        return (f"{self.rows:,} × {self.dims} float32 vectors, a mixture of {self.clusters} "
                f"Gaussians (centre coordinates N(0, {self.spread:g}²), per-cluster standard "
                f"deviation uniform in [0.6, 1.4], Dirichlet(5) weights), seed {self.seed}, "
                f"cached in {self.directory}")


def mixture(rows: int, dims: int, clusters: int, spread: float, seed: int, np) -> Mixture:
    name = f"mixture-{rows}x{dims}-c{clusters}-s{spread:g}-seed{seed}"
    directory = DATA_ROOT / name
    found = Mixture(directory, directory / "vectors.f32", directory / "labels.txt",
                    rows, dims, clusters, spread, seed)
    if found.vectors.exists() and found.labels.exists() \
            and found.vectors.stat().st_size == rows * dims * 4:
        return found
    print(f"generating {name} ...", file=sys.stderr)
    started = time.perf_counter()
    staging = directory.with_name(directory.name + ".partial")
    staging.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, spread, size=(clusters, dims)).astype(np.float32)
    deviations = rng.uniform(0.6, 1.4, size=clusters).astype(np.float32)
    weights = rng.dirichlet(np.full(clusters, 5.0))
    labels = rng.choice(clusters, size=rows, p=weights)
    with (staging / "vectors.f32").open("wb") as handle:
        for start in range(0, rows, GENERATION_CHUNK_ROWS):
            chunk = labels[start:start + GENERATION_CHUNK_ROWS]
            noise = rng.standard_normal((len(chunk), dims), dtype=np.float32)
            values = centres[chunk] + noise * deviations[chunk, None]
            handle.write(values.astype("<f4", copy=False).tobytes())
    (staging / "labels.txt").write_text("".join(f"{label}\n" for label in labels),
                                        encoding="utf-8")
    meta = {"rows": rows, "dims": dims, "clusters": clusters, "spread": spread, "seed": seed,
            "format": "little-endian float32, row-major; labels.txt: one label per line",
            "cluster_sizes": np.bincount(labels, minlength=clusters).tolist()}
    (staging / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    for leftover in directory.glob("*") if directory.exists() else []:
        leftover.unlink()
    if directory.exists():
        directory.rmdir()
    staging.rename(directory)
    print(f"  generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return found


def load(data: Mixture, np):
    vectors = np.fromfile(data.vectors, dtype="<f4").reshape(data.rows, data.dims)
    labels = np.loadtxt(data.labels, dtype=np.int64)
    return vectors, labels


# --------------------------------------------------------------------------
# Methods


@dataclass
class Row:
    method: str
    clusters: float | None = None
    inertia: float | None = None
    iterations: float | None = None
    ari: float | None = None
    nmi: float | None = None
    seconds: float | None = None
    times: list[float] = field(default_factory=list)
    inertias: list[float] = field(default_factory=list)
    note: str = ""


def inertia_f64(vectors, labels, centres, np) -> float:
    total = 0.0
    for start in range(0, len(vectors), 8192):
        block = vectors[start:start + 8192].astype(np.float64)
        difference = block - centres[labels[start:start + 8192]].astype(np.float64)
        total += float(np.einsum("ij,ij->", difference, difference))
    return total


def sklearn_kmeans(vectors, truth, args, np, threadpool_limits) -> Row:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    row = Row(f'scikit-learn KMeans (lloyd, n_init=1, {args.threads} threads)')
    runs = []
    for run in range(args.runs):
        seed = args.seed + run
        print(f"  scikit-learn KMeans, seed {seed} ...", file=sys.stderr)
        model = KMeans(n_clusters=args.k, n_init=1, max_iter=args.max_iter, tol=1e-4,
                       algorithm="lloyd", random_state=seed)
        with threadpool_limits(limits=args.threads):
            started = time.perf_counter()
            model.fit(vectors)
            seconds = time.perf_counter() - started
        labels = model.labels_
        runs.append((seconds, inertia_f64(vectors, labels, model.cluster_centers_, np),
                     model.n_iter_, adjusted_rand_score(truth, labels),
                     normalized_mutual_info_score(truth, labels), len(set(labels.tolist()))))
    row.times = [r[0] for r in runs]
    row.inertias = [r[1] for r in runs]
    row.seconds = statistics.median(row.times)
    row.inertia = statistics.mean(row.inertias)
    row.iterations = statistics.mean(r[2] for r in runs)
    row.ari = statistics.mean(r[3] for r in runs)
    row.nmi = statistics.mean(r[4] for r in runs)
    row.clusters = statistics.mean(r[5] for r in runs)
    return row


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


def number(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def lakebook_kmeans(lakebook: Path | None, data: Mixture, args) -> Row:
    row = Row(f"Lakebook (bench kmeans, {args.threads} threads)")
    if lakebook is None:
        row.note = "not available: no Lakebook binary (--lakebook)"
        return row
    cpus = pinned_cpus(args.threads)
    extra = [part.replace("{labels}", str(data.labels)).replace("{vectors}", str(data.vectors))
             for part in shlex.split(args.lakebook_extra)]
    results = []
    for run in range(args.runs):
        command = [str(lakebook), "bench", "kmeans", "--vectors", str(data.vectors),
                   "--rows", str(data.rows), "--dims", str(data.dims), "--k", str(args.k),
                   "--max-iter", str(args.max_iter), "--seed", str(args.seed + run), *extra]
        print("$ " + shlex.join(command), file=sys.stderr)
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=LAKEBOOK_TIMEOUT_S,
                preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        except (OSError, subprocess.TimeoutExpired) as err:
            row.note = f"not available: {err}"
            return row
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            row.note = f"not available: exit {done.returncode}: {' / '.join(tail)}"
            return row
        try:
            results.append(parse_json_output(done.stdout))
        except ValueError as err:
            row.note = f"not available: {err}"
            return row

    def values(key: str) -> list[float]:
        found = [number(r.get(key)) for r in results]
        return [v for v in found if v is not None]

    def mean_of(key: str) -> float | None:
        found = values(key)
        return statistics.mean(found) if found else None

    row.times = values("seconds")
    row.inertias = values("inertia")
    row.seconds = statistics.median(row.times) if row.times else None
    row.inertia = mean_of("inertia")
    row.iterations = mean_of("iterations")
    row.ari = mean_of("ari")
    row.nmi = mean_of("nmi")
    row.clusters = mean_of("k")
    if row.clusters is None:
        row.clusters = float(args.k)
    if row.ari is None:
        row.note = ("the command printed no ari/nmi; pass --lakebook-extra if it takes the "
                    "planted labels")
    return row


def hdbscan_rows(vectors, truth, args, np, threadpool_limits) -> list[Row]:
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    rng = np.random.default_rng(args.seed)
    size = min(args.hdbscan_sample, len(vectors))
    chosen = np.sort(rng.choice(len(vectors), size=size, replace=False))
    sample, sample_truth = vectors[chosen], truth[chosen]
    variants = [("raw", None)]
    if args.hdbscan_pca > 0:
        variants.append((f"PCA {args.hdbscan_pca}", args.hdbscan_pca))
    rows = []
    for name, components in variants:
        row = Row(f"scikit-learn HDBSCAN ({name}, {size:,}-row sample, "
                  f"min_cluster_size={args.hdbscan_min_cluster_size})")
        print(f"  {row.method} ...", file=sys.stderr)
        with threadpool_limits(limits=args.threads):
            started = time.perf_counter()
            points = sample
            if components:
                points = PCA(n_components=components, random_state=args.seed).fit_transform(sample)
            labels = HDBSCAN(min_cluster_size=args.hdbscan_min_cluster_size,
                             n_jobs=args.threads, copy=True).fit_predict(points)
            row.seconds = time.perf_counter() - started
        row.times = [row.seconds]
        row.ari = adjusted_rand_score(sample_truth, labels)
        row.nmi = normalized_mutual_info_score(sample_truth, labels)
        row.clusters = float(len(set(labels.tolist()) - {-1}))
        noise = float(np.mean(labels == -1))
        row.note = f"{noise:.1%} of the sample labelled noise; ARI/NMI over the sample"
        rows.append(row)
    return rows


# --------------------------------------------------------------------------
# Report


def fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value >= 0.01 else f"{value:.5f}"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}×" if value >= 0.1 else f"{value:.2g}×"


def fmt_big(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def machine_lines(sklearn, np, lakebook: Path | None, args) -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    command = os.environ.get(COMMAND_ENV) or command_line()
    return [
        "# k-means: Lakebook vs scikit-learn",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} with:",
        "",
        "```",
        command,
        "```",
        "",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu}, {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}",
        f"- Lakebook: {lakebook if lakebook else 'not given'}",
        f"- k = {args.k}, max_iter = {args.max_iter}, tol = 1e-4, {args.threads} threads for "
        f"both; {args.runs} runs with seeds {args.seed}…{args.seed + args.runs - 1}: median "
        f"time of the fit alone, mean inertia and quality",
        "",
    ]


def report_lines(data: Mixture, rows: list[Row], args) -> list[str]:
    reference = rows[0]
    lines = [
        "## Data",
        "",
        data.description() + ".",
        "",
        "| method | clusters | inertia | inertia vs scikit-learn | iterations | ARI | NMI "
        "| time (s) | time vs scikit-learn |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        inertia_ratio = time_ratio = None
        if row.inertia is not None and reference.inertia:
            inertia_ratio = row.inertia / reference.inertia
        if row.seconds is not None and reference.seconds and "HDBSCAN" not in row.method:
            time_ratio = row.seconds / reference.seconds
        clusters = "–" if row.clusters is None else f"{row.clusters:g}"
        lines.append(
            f"| {row.method} | {clusters} | {fmt_big(row.inertia)} | {fmt_ratio(inertia_ratio)} "
            f"| {fmt(row.iterations, 1)} | {fmt(row.ari, 4)} | {fmt(row.nmi, 4)} "
            f"| {fmt_seconds(row.seconds)} | {fmt_ratio(time_ratio)} |")
    lines += ["", "Per run (time s / inertia):", ""]
    for row in rows:
        if row.inertias:
            runs = ", ".join(f"{t:.3f} / {i:,.0f}" for t, i in zip(row.times, row.inertias))
            lines.append(f"- {row.method}: {runs}")
    notes = [f"{row.method}: {row.note}" for row in rows if row.note]
    if notes:
        lines += [""] + [f"Note — {note}" for note in notes]
    ours = next((r for r in rows if r.method.startswith("Lakebook")), Row(""))
    lines += ["", "Targets (Lakebook against scikit-learn KMeans):"]
    if ours.seconds is None or reference.seconds is None:
        lines.append("- time ≤ 1.0× scikit-learn's: not available")
    else:
        ratio = ours.seconds / reference.seconds
        lines.append(f"- {'PASS' if ratio <= 1.0 else 'MISS'} time ≤ 1.0× scikit-learn's: "
                     f"{ours.seconds:.3f} s vs {reference.seconds:.3f} s ({ratio:.3f}×)")
    if ours.inertia is None or not reference.inertia:
        lines.append("- inertia within 1% of scikit-learn's: not available")
    else:
        ratio = ours.inertia / reference.inertia
        met = abs(ratio - 1.0) <= 0.01 or ratio < 1.0
        lines.append(f"- {'PASS' if met else 'MISS'} inertia within 1% of scikit-learn's "
                     f"(or lower): {ours.inertia:,.0f} vs {reference.inertia:,.0f} "
                     f"({(ratio - 1.0) * 100:+.2f}%)")
    return lines + [""]


# --------------------------------------------------------------------------


def find_lakebook(given: str | None) -> Path | None:
    if given:
        path = Path(given).expanduser()
        if not path.exists():
            sys.exit(f"error: --lakebook {given}: no such file")
        return path.resolve()
    for candidate in (ROOT / "target" / "release" / "lakebook",
                      ROOT / "target" / "debug" / "lakebook"):
        if candidate.exists():
            print(f"using {candidate} (pass --lakebook to choose)", file=sys.stderr)
            return candidate
    print("no Lakebook binary found: scikit-learn only (pass --lakebook)", file=sys.stderr)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring (head -60 bench/cluster_kmeans.py) for details.",
    )
    parser.add_argument("--lakebook", help="the lakebook binary (default: target/release or "
                        "target/debug if built)")
    parser.add_argument("--lakebook-extra", default="--labels {labels}",
                        help="more arguments for `lakebook bench kmeans`; {labels} and "
                             "{vectors} are replaced by the files' paths")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help=f"virtual environment with scikit-learn (default {DEFAULT_VENV})")
    parser.add_argument("--no-venv", action="store_true",
                        help="use the current Python, which must have scikit-learn and numpy")
    parser.add_argument("--rows", type=int, default=100_000, help="vectors (default 100000)")
    parser.add_argument("--dims", type=int, default=384, help="dimensions (default 384)")
    parser.add_argument("--clusters", type=int, default=20,
                        help="planted clusters (default 20)")
    parser.add_argument("--spread", type=float, default=1.0,
                        help="standard deviation of the centres' coordinates; the clusters' "
                             "own is 0.6–1.4 (default 1.0; smaller overlaps more)")
    parser.add_argument("--data-seed", type=int, default=7, help="seed of the mixture")
    parser.add_argument("--k", type=int, default=None, help="clusters to fit (default --clusters)")
    parser.add_argument("--max-iter", type=int, default=100, help="iteration cap (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="first k-means seed (default 0)")
    parser.add_argument("--runs", type=int, default=3,
                        help="k-means runs per method, seeds seed..seed+runs-1 (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads for both (default 2)")
    parser.add_argument("--hdbscan-sample", type=int, default=20_000,
                        help="rows given to HDBSCAN (default 20000)")
    parser.add_argument("--hdbscan-min-cluster-size", type=int, default=50,
                        help="HDBSCAN's min_cluster_size (default 50)")
    parser.add_argument("--hdbscan-pca", type=int, default=50,
                        help="also run HDBSCAN after a PCA to this many dimensions (0: no)")
    parser.add_argument("--no-hdbscan", action="store_true", help="skip the HDBSCAN reference")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "CLUSTER_RESULTS.md",
                        help="markdown results, written when the Lakebook binary ran "
                             "(default bench/CLUSTER_RESULTS.md)")
    args = parser.parse_args()
    args.k = args.k or args.clusters
    if args.runs < 1 or args.threads < 1 or args.max_iter < 1:
        parser.error("--runs, --threads and --max-iter must be at least 1")
    if args.rows < args.k or args.k < 1 or args.dims < 1 or args.clusters < 1:
        parser.error("need rows ≥ k ≥ 1, dims ≥ 1 and clusters ≥ 1")

    limit_threads(args.threads)
    if not args.no_venv:
        ensure_venv(args.venv.expanduser())
    np, sklearn, threadpool_limits = import_libraries()
    lakebook = find_lakebook(args.lakebook)

    data = mixture(args.rows, args.dims, args.clusters, args.spread, args.data_seed, np)
    vectors, truth = load(data, np)
    rows = [sklearn_kmeans(vectors, truth, args, np, threadpool_limits)]
    ours = lakebook_kmeans(lakebook, data, args)
    rows.append(ours)
    if not args.no_hdbscan:
        rows += hdbscan_rows(vectors, truth, args, np, threadpool_limits)

    report = machine_lines(sklearn, np, lakebook, args) + report_lines(data, rows, args)
    text = "\n".join(report).rstrip() + "\n"
    print(text)
    if ours.seconds is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"written to {args.out}", file=sys.stderr)
    else:
        print(f"not written to {args.out}: Lakebook did not run", file=sys.stderr)


if __name__ == "__main__":
    main()
