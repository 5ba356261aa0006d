#!/usr/bin/env python3
"""Clustering: Lakebook's engine against scikit-learn (and umap-learn) on the
same vectors, in four parts.

1. Speed of k-means: --rows × --dims float32 vectors (default 100,000 × 384,
   the size of a lake's sentence embeddings) from a planted Gaussian mixture.
   scikit-learn `KMeans(n_clusters=k, n_init=1, max_iter=M, tol=1e-4,
   algorithm="lloyd")` against `lakebook bench kmeans` with the same k and
   iteration cap, both on --threads threads, --runs seeds each. Targets:
   time ≤ 1.0× scikit-learn's, mean inertia within 1% (or lower).
2. Mini-batch k-means at scale: --large-rows (default 1,000,000) × --dims
   vectors from the same kind of mixture, scikit-learn `MiniBatchKMeans`
   against `lakebook bench kmeans --mini-batch B`, same batch size and cap on
   passes over the data.
3. Quality on labelled data: ARI and NMI against known groups for k-means
   (k = the number of groups) and HDBSCAN, scikit-learn's and Lakebook's, on
   the same vectors; HDBSCAN on both sides gets the same PCA-reduced vectors
   (--hdbscan-pca, default 16 dimensions, as the app). Datasets:
   * mixture: a --quality-sample row sample (default 20,000) of part 1's
     mixture (planted);
   * digits: scikit-learn's bundled copy of the UCI handwritten digits
     (1,797 images of 8×8 pixels, 10 digits; real);
   * packages: Debian package descriptions (the one-line `Description` of
     every package in the machine's apt lists, `apt-cache dumpavail`) from
     ten archive sections, at most --packages-per-section each, embedded with
     Lakebook's all-MiniLM-L6-v2 (`lakebook bench embed`); the section is the
     label (real text).
4. 2-D projection: trustworthiness (k = 10, scikit-learn's
   `sklearn.manifold.trustworthiness`) and time of Lakebook's UMAP
   (`lakebook bench umap`), umap-learn's UMAP (same neighbours and min_dist)
   and a PCA, on the digits and package vectors.

Data is cached under ~/.cache/lakebook-bench/cluster/: vectors as raw
little-endian f32 row after row (`vectors.f32`), one label per line
(`labels.txt`), and `meta.json`. Lakebook runs pinned to --threads CPUs
(sched_setaffinity); its commands report the time of the algorithm alone
(reading excluded), as scikit-learn's is timed around `fit`.

The results go to stdout as markdown and, when the Lakebook binary ran, to
--out (bench/CLUSTER_RESULTS.md).

The Python side needs scikit-learn, numpy and umap-learn, in a virtual
environment, by default ~/.cache/lakebook-bench/cluster-venv: the script
creates it when missing (network needed once) and re-runs itself with its
interpreter. --no-venv uses the current Python.

Usage:
    cargo build --release
    python3 bench/cluster.py --lakebook target/release/lakebook
    python3 bench/cluster.py --lakebook target/release/lakebook --parts speed,quality
    python3 bench/cluster.py --lakebook target/release/lakebook --large-rows 300000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import command_line, ensure_venv, find_lakebook, fmt, fmt_ratio, fmt_seconds

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path.home() / ".cache" / "lakebook-bench"
DATA_ROOT = CACHE / "cluster"
DEFAULT_VENV = CACHE / "cluster-venv"
PACKAGES = ("scikit-learn", "numpy", "umap-learn")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")
LAKEBOOK_TIMEOUT_S = 3600
GENERATION_CHUNK_ROWS = 50_000
PARTS = ("speed", "minibatch", "quality", "projection")
# Debian archive sections whose packages do clearly different things.
SECTIONS = ("games", "sound", "graphics", "fonts", "mail", "database", "video",
            "electronics", "hamradio", "editors")
TRUSTWORTHINESS_K = 10


# --------------------------------------------------------------------------
# Virtual environment and threads


def limit_threads(threads: int) -> None:
    """Must run before numpy is imported: BLAS/OpenMP read these at load."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def pinned_cpus(threads: int) -> set[int] | None:
    """The first `threads` CPUs this process may use (None where affinity is
    not available or not needed)."""
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
        sys.exit(f"error: {err}. Install them with `pip install {' '.join(PACKAGES)}` "
                 f"or run without --no-venv.")
    return numpy, sklearn, threadpool_limits


# --------------------------------------------------------------------------
# Data


@dataclass
class Vectors:
    """Vectors on disk with their labels."""
    name: str
    directory: Path
    rows: int
    dims: int
    groups: int
    description: str

    @property
    def vectors(self) -> Path:
        return self.directory / "vectors.f32"

    @property
    def labels(self) -> Path:
        return self.directory / "labels.txt"

    def load(self, np):
        vectors = np.fromfile(self.vectors, dtype="<f4").reshape(self.rows, self.dims)
        labels = np.loadtxt(self.labels, dtype=np.int64)
        return vectors, labels


def cached(directory: Path) -> dict | None:
    meta = directory / "meta.json"
    if not (meta.exists() and (directory / "vectors.f32").exists()
            and (directory / "labels.txt").exists()):
        return None
    value = json.loads(meta.read_text(encoding="utf-8"))
    if (directory / "vectors.f32").stat().st_size != value["rows"] * value["dims"] * 4:
        return None
    return value


def write_rows(directory: Path, rows: int, dims: int, fill, labels, meta: dict) -> None:
    """Writes `directory` atomically (through a staging folder): vectors.f32,
    whose raw little-endian f32 rows `fill(handle)` writes, labels.txt and
    meta.json."""
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with (staging / "vectors.f32").open("wb") as handle:
        fill(handle)
    (staging / "labels.txt").write_text("".join(f"{int(v)}\n" for v in labels), encoding="utf-8")
    meta = dict(meta, rows=rows, dims=dims,
                format="little-endian float32, row-major; labels.txt: one label per line")
    (staging / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)


def write_vectors(directory: Path, vectors, labels, meta: dict) -> None:
    """Writes a matrix in memory with its labels (see `write_rows`)."""
    write_rows(directory, int(vectors.shape[0]), int(vectors.shape[1]),
               lambda handle: handle.write(vectors.astype("<f4", copy=False).tobytes()),
               labels, meta)


def mixture(rows: int, dims: int, clusters: int, spread: float, seed: int, np) -> Vectors:
    """A planted Gaussian mixture: centre coordinates N(0, spread²), each
    cluster's standard deviation uniform in [0.6, 1.4], Dirichlet(5) weights."""
    name = f"mixture-{rows}x{dims}-c{clusters}-s{spread:g}-seed{seed}"
    directory = DATA_ROOT / name
    description = (f"{rows:,} × {dims} float32 vectors, a mixture of {clusters} Gaussians "
                   f"(centre coordinates N(0, {spread:g}²), per-cluster standard deviation "
                   f"uniform in [0.6, 1.4], Dirichlet(5) weights), seed {seed}")
    found = Vectors("mixture", directory, rows, dims, clusters, description)
    if cached(directory) is not None:
        return found
    print(f"generating {name} ...", file=sys.stderr)
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, spread, size=(clusters, dims)).astype(np.float32)
    deviations = rng.uniform(0.6, 1.4, size=clusters).astype(np.float32)
    weights = rng.dirichlet(np.full(clusters, 5.0))
    labels = rng.choice(clusters, size=rows, p=weights)
    def fill(handle) -> None:
        # In chunks: a million rows of 384 values would otherwise need
        # several copies in memory at once.
        for start in range(0, rows, GENERATION_CHUNK_ROWS):
            chunk = labels[start:start + GENERATION_CHUNK_ROWS]
            noise = rng.standard_normal((len(chunk), dims), dtype=np.float32)
            handle.write((centres[chunk] + noise * deviations[chunk, None])
                         .astype("<f4", copy=False).tobytes())

    meta = {"clusters": clusters, "spread": spread, "seed": seed,
            "cluster_sizes": np.bincount(labels, minlength=clusters).tolist()}
    write_rows(directory, rows, dims, fill, labels, meta)
    return found


def mixture_sample(source: Vectors, size: int, seed: int, np) -> Vectors:
    directory = DATA_ROOT / f"{source.directory.name}-sample{size}-seed{seed}"
    description = f"a {size:,}-row sample (seed {seed}) of part 1's mixture: {source.description}"
    found = Vectors("mixture", directory, min(size, source.rows), source.dims, source.groups,
                    description)
    if cached(directory) is None:
        vectors, labels = source.load(np)
        chosen = np.sort(np.random.default_rng(seed).choice(
            source.rows, size=found.rows, replace=False))
        write_vectors(directory, vectors[chosen], labels[chosen],
                      {"source": str(source.directory)})
    return found


def digits(np) -> Vectors:
    from sklearn.datasets import load_digits
    directory = DATA_ROOT / "digits"
    description = ("scikit-learn's bundled UCI handwritten digits: 1,797 images of 8×8 pixels "
                   "(64 values, 0–16), 10 digits (real, labelled by the writers)")
    if cached(directory) is None:
        data = load_digits()
        write_vectors(directory, data.data.astype(np.float32), data.target,
                      {"source": "sklearn.datasets.load_digits"})
    meta = cached(directory)
    return Vectors("digits", directory, meta["rows"], meta["dims"], 10, description)


def package_texts(per_section: int, seed: int) -> tuple[list[str], list[int]] | None:
    """One-line descriptions of the packages of SECTIONS in the apt lists
    (at most `per_section` each, a seeded sample), with their section's index."""
    try:
        done = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True,
                              timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    by_section: dict[str, set[str]] = {s: set() for s in SECTIONS}
    section = description = None
    for line in done.stdout.splitlines() + [""]:
        if not line.strip():
            if section in by_section and description:
                by_section[section].add(description)
            section = description = None
        elif line.startswith("Section: "):
            section = line.split(": ", 1)[1].strip().rsplit("/", 1)[-1]
        elif line.startswith("Description: "):
            description = line.split(": ", 1)[1].strip()
    import random
    texts, labels = [], []
    for index, name in enumerate(SECTIONS):
        chosen = sorted(by_section[name])
        random.Random(seed + index).shuffle(chosen)
        for text in sorted(chosen[:per_section]):
            texts.append(text)
            labels.append(index)
    return (texts, labels) if texts else None


def packages(lakebook: Path | None, per_section: int, seed: int, np) -> Vectors | str:
    """The package descriptions embedded by Lakebook, or why not."""
    directory = DATA_ROOT / f"packages-{per_section}-seed{seed}"
    description = (f"Debian package descriptions from the apt lists (`apt-cache dumpavail`), "
                   f"sections {', '.join(SECTIONS)}, at most {per_section} a section (seed "
                   f"{seed}), embedded with all-MiniLM-L6-v2 by `lakebook bench embed` (384 "
                   f"dimensions); the section is the label (real)")
    meta = cached(directory)
    if meta is None:
        if lakebook is None:
            return "no Lakebook binary to embed the texts"
        found = package_texts(per_section, seed)
        if found is None:
            return "no apt lists here (`apt-cache dumpavail` gave nothing)"
        texts, labels = found
        with tempfile.TemporaryDirectory() as scratch:
            lines = Path(scratch) / "texts.jsonl"
            lines.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
            out = Path(scratch) / "vectors.f32"
            result = run_lakebook(lakebook, ["bench", "embed", str(lines), "--vectors", str(out)],
                                  None)
            if isinstance(result, str):
                return f"embedding failed: {result}"
            vectors = np.fromfile(out, dtype="<f4").reshape(len(texts), -1)
        write_vectors(directory, vectors, labels,
                      {"sections": list(SECTIONS), "texts": texts})
        meta = cached(directory)
    return Vectors("packages", directory, meta["rows"], meta["dims"], len(SECTIONS), description)


# --------------------------------------------------------------------------
# Running Lakebook


def run_lakebook(lakebook: Path, arguments: list[str], threads: int | None) -> dict | str:
    """Runs `lakebook ARGUMENTS` (pinned to `threads` CPUs) and returns the
    JSON object it printed last, or why it failed."""
    command = [str(lakebook), *arguments]
    cpus = pinned_cpus(threads) if threads else None
    print("$ " + shlex.join(command), file=sys.stderr)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=LAKEBOOK_TIMEOUT_S,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return f"exit {done.returncode}: {' / '.join(tail)}"
    try:
        value = json.loads(done.stdout)
        if isinstance(value, dict):
            return value
    except json.JSONDecodeError:
        pass
    for line in reversed(done.stdout.strip().splitlines()):
        if line.strip().startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return f"no JSON object in the output: {done.stdout[-300:]!r}"


def vector_arguments(data: Vectors) -> list[str]:
    return ["--vectors", str(data.vectors), "--rows", str(data.rows), "--dims", str(data.dims)]


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


def summarise(row: Row, runs: list[dict]) -> Row:
    """Fills `row` from per-run dicts (seconds, inertia, iterations, k, ari, nmi)."""
    def values(key: str) -> list[float]:
        return [float(r[key]) for r in runs if r.get(key) is not None]

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
    return row


def sklearn_kmeans(vectors, truth, k: int, args, np, threadpool_limits,
                   batch: int | None = None) -> Row:
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    if batch:
        row = Row(f"scikit-learn MiniBatchKMeans (batch {batch:,}, n_init=1, "
                  f"{args.threads} threads)")
    else:
        row = Row(f"scikit-learn KMeans (lloyd, n_init=1, {args.threads} threads)")
    runs = []
    for run in range(args.runs):
        seed = args.seed + run
        print(f"  {row.method}, seed {seed} ...", file=sys.stderr)
        if batch:
            model = MiniBatchKMeans(n_clusters=k, n_init=1, max_iter=args.max_iter,
                                    batch_size=batch, random_state=seed)
        else:
            model = KMeans(n_clusters=k, n_init=1, max_iter=args.max_iter, tol=1e-4,
                           algorithm="lloyd", random_state=seed)
        with threadpool_limits(limits=args.threads):
            started = time.perf_counter()
            model.fit(vectors)
            seconds = time.perf_counter() - started
        labels = model.labels_
        runs.append({"seconds": seconds, "k": len(set(labels.tolist())),
                     "inertia": inertia_f64(vectors, labels, model.cluster_centers_, np),
                     "iterations": model.n_iter_,
                     "ari": adjusted_rand_score(truth, labels),
                     "nmi": normalized_mutual_info_score(truth, labels)})
    return summarise(row, runs)


def lakebook_kmeans(lakebook: Path | None, data: Vectors, k: int, args,
                    batch: int | None = None) -> Row:
    name = f"mini-batch {batch:,}, " if batch else ""
    row = Row(f"Lakebook (bench kmeans, {name}{args.threads} threads)")
    if lakebook is None:
        row.note = "not available: no Lakebook binary (--lakebook)"
        return row
    runs = []
    for run in range(args.runs):
        arguments = ["bench", "kmeans", *vector_arguments(data), "--labels", str(data.labels),
                     "--k", str(k), "--max-iter", str(args.max_iter),
                     "--seed", str(args.seed + run)]
        if batch:
            arguments += ["--mini-batch", str(batch)]
        result = run_lakebook(lakebook, arguments, args.threads)
        if isinstance(result, str):
            row.note = f"not available: {result}"
            return row
        runs.append(result)
    return summarise(row, runs)


def sklearn_hdbscan(points, truth, min_cluster_size: int, args, np, threadpool_limits) -> Row:
    from sklearn.cluster import HDBSCAN
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    row = Row(f"scikit-learn HDBSCAN (min_cluster_size={min_cluster_size})")
    print(f"  {row.method} ...", file=sys.stderr)
    with threadpool_limits(limits=args.threads):
        started = time.perf_counter()
        labels = HDBSCAN(min_cluster_size=min_cluster_size, n_jobs=args.threads,
                         copy=True).fit_predict(points)
        seconds = time.perf_counter() - started
    # Noise (-1) counts as one more cluster, on both sides.
    summarise(row, [{"seconds": seconds, "k": len(set(labels.tolist()) - {-1}),
                     "ari": adjusted_rand_score(truth, labels),
                     "nmi": normalized_mutual_info_score(truth, labels)}])
    row.note = f"{float(np.mean(labels == -1)):.1%} noise"
    return row


def lakebook_hdbscan(lakebook: Path | None, data: Vectors, min_cluster_size: int,
                     args) -> Row:
    row = Row(f"Lakebook (bench hdbscan, min_cluster_size={min_cluster_size})")
    if lakebook is None:
        row.note = "not available: no Lakebook binary (--lakebook)"
        return row
    result = run_lakebook(lakebook, ["bench", "hdbscan", *vector_arguments(data), "--labels",
                                     str(data.labels), "--min-cluster-size",
                                     str(min_cluster_size)], args.threads)
    if isinstance(result, str):
        row.note = f"not available: {result}"
        return row
    summarise(row, [dict(result, k=result.get("clusters"))])
    row.note = f"{result['noise'] / data.rows:.1%} noise"
    return row


def reduced(data: Vectors, components: int, args, np, threadpool_limits) -> Vectors:
    """`data` after scikit-learn's PCA to `components` dimensions (cached),
    so both HDBSCANs read the same points."""
    if data.dims <= components:
        return data
    from sklearn.decomposition import PCA
    directory = data.directory.with_name(f"{data.directory.name}-pca{components}")
    if cached(directory) is None:
        vectors, labels = data.load(np)
        with threadpool_limits(limits=args.threads):
            points = PCA(n_components=components, random_state=0).fit_transform(vectors)
        write_vectors(directory, points.astype(np.float32), labels,
                      {"source": str(data.directory), "pca": components})
    return Vectors(data.name, directory, data.rows, components, data.groups,
                   f"{data.description}, PCA to {components}")


# --------------------------------------------------------------------------
# Projection


@dataclass
class Projection:
    method: str
    trustworthiness: float | None = None
    seconds: float | None = None
    note: str = ""


def projections(lakebook: Path | None, data: Vectors, args, np,
                threadpool_limits) -> list[Projection]:
    from sklearn.decomposition import PCA
    from sklearn.manifold import trustworthiness

    vectors, _ = data.load(np)
    rows = []

    def scored(method: str, layout, seconds: float) -> Projection:
        score = trustworthiness(vectors, layout, n_neighbors=TRUSTWORTHINESS_K)
        return Projection(method, float(score), seconds)

    with threadpool_limits(limits=args.threads):
        started = time.perf_counter()
        layout = PCA(n_components=2, random_state=0).fit_transform(vectors)
        rows.append(scored("PCA (scikit-learn)", layout, time.perf_counter() - started))
    try:
        import umap
        with threadpool_limits(limits=args.threads):
            model = umap.UMAP(n_neighbors=args.neighbours, min_dist=args.min_dist,
                              random_state=args.seed, n_jobs=1)
            # numba compiles on first use: one untimed warm-up on a small slice.
            umap.UMAP(n_neighbors=args.neighbours, min_dist=args.min_dist,
                      random_state=args.seed, n_jobs=1).fit_transform(vectors[:300])
            started = time.perf_counter()
            layout = model.fit_transform(vectors)
            rows.append(scored(f"umap-learn {umap.__version__} (random_state, 1 thread)",
                               layout, time.perf_counter() - started))
    except ImportError as err:
        rows.append(Projection("umap-learn", note=f"not available: {err}"))
    row = Projection(f"Lakebook (bench umap, {args.threads} threads)")
    if lakebook is None:
        row.note = "not available: no Lakebook binary"
    else:
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "layout.f32"
            result = run_lakebook(lakebook, ["bench", "umap", *vector_arguments(data),
                                             "--neighbours", str(args.neighbours),
                                             "--min-dist", str(args.min_dist),
                                             "--seed", str(args.seed), "--out", str(out)],
                                  args.threads)
            if isinstance(result, str):
                row.note = f"not available: {result}"
            else:
                layout = np.fromfile(out, dtype="<f4").reshape(data.rows, 2)
                row = scored(row.method, layout, float(result["seconds"]))
    rows.append(row)
    return rows


def umap_scale_lines(lakebook: Path, data: Vectors, args) -> list[str]:
    """Lakebook's UMAP on all of part 1's vectors: time only (trustworthiness
    is quadratic in the rows)."""
    with tempfile.TemporaryDirectory() as scratch:
        result = run_lakebook(lakebook, ["bench", "umap", *vector_arguments(data),
                                         "--seed", str(args.seed),
                                         "--out", str(Path(scratch) / "layout.f32")],
                              args.threads)
    if isinstance(result, str):
        return [f"Lakebook's UMAP on part 1's {data.rows:,} × {data.dims} vectors: {result}", ""]
    return [f"Lakebook's UMAP on all of part 1's {data.rows:,} × {data.dims} vectors (a PCA to "
            f"50 dimensions, then UMAP, as the app): {result['seconds']:.1f} s on "
            f"{args.threads} threads.", ""]


# --------------------------------------------------------------------------
# Report


def fmt_big(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def header_lines(sklearn, np, lakebook: Path | None, args) -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import umap
        umap_version = f", umap-learn {umap.__version__}"
    except ImportError:
        umap_version = ""
    command = command_line()
    return [
        "# Clustering: Lakebook vs scikit-learn and umap-learn",
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
        f"numpy {np.__version__}{umap_version}",
        f"- Lakebook: {lakebook if lakebook else 'not given'}",
        f"- {args.threads} threads for both sides; k-means: max_iter = {args.max_iter}, "
        f"{args.runs} runs with seeds {args.seed}…{args.seed + args.runs - 1} (median time of "
        f"the fit alone, mean inertia and quality)",
        "",
    ]


def kmeans_table(rows: list[Row]) -> list[str]:
    reference = rows[0]
    lines = [
        "| method | clusters | inertia | inertia vs scikit-learn | iterations | ARI | NMI "
        "| time (s) | time vs scikit-learn |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        inertia_ratio = time_ratio = None
        if row.inertia is not None and reference.inertia:
            inertia_ratio = row.inertia / reference.inertia
        if row.seconds is not None and reference.seconds:
            time_ratio = row.seconds / reference.seconds
        clusters = "–" if row.clusters is None else f"{row.clusters:g}"
        lines.append(
            f"| {row.method} | {clusters} | {fmt_big(row.inertia)} | {fmt_ratio(inertia_ratio, 3)} "
            f"| {fmt(row.iterations, 1)} | {fmt(row.ari, 4)} | {fmt(row.nmi, 4)} "
            f"| {fmt_seconds(row.seconds)} | {fmt_ratio(time_ratio, 3)} |")
    lines += ["", "Per run (time s / inertia):", ""]
    for row in rows:
        if row.inertias:
            runs = ", ".join(f"{t:.3f} / {i:,.0f}" for t, i in zip(row.times, row.inertias))
            lines.append(f"- {row.method}: {runs}")
    lines += notes(rows)
    return lines


def notes(rows) -> list[str]:
    found = [f"Note — {row.method}: {row.note}" for row in rows if row.note]
    return [""] + found if found else []


def target_lines(rows: list[Row]) -> list[str]:
    reference, ours = rows[0], rows[1]
    lines = ["", "Targets (Lakebook against scikit-learn):"]
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
    return lines


def quality_table(rows: list[tuple[str, Row]]) -> list[str]:
    lines = ["| data | method | clusters | ARI | NMI | time (s) |",
             "|---|---|---:|---:|---:|---:|"]
    for data, row in rows:
        clusters = "–" if row.clusters is None else f"{row.clusters:g}"
        lines.append(f"| {data} | {row.method} | {clusters} | {fmt(row.ari, 4)} "
                     f"| {fmt(row.nmi, 4)} | {fmt_seconds(row.seconds)} |")
    found = [f"Note — {data}, {row.method}: {row.note}" for data, row in rows if row.note]
    return lines + ([""] + found if found else [])


def projection_table(rows: list[tuple[str, Projection]]) -> list[str]:
    lines = [f"| data | method | trustworthiness (k = {TRUSTWORTHINESS_K}) | time (s) |",
             "|---|---|---:|---:|"]
    for data, row in rows:
        lines.append(f"| {data} | {row.method} | {fmt(row.trustworthiness, 4)} "
                     f"| {fmt_seconds(row.seconds)} |")
    found = [f"Note — {data}, {row.method}: {row.note}" for data, row in rows if row.note]
    return lines + ([""] + found if found else [])


# --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring (head -60 bench/cluster.py) for details.",
    )
    parser.add_argument("--lakebook", help="the lakebook binary (default: the release or "
                        "debug build in $CARGO_TARGET_DIR or target/)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"which parts to run, comma-separated (default {','.join(PARTS)})")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help=f"virtual environment with the Python side (default {DEFAULT_VENV})")
    parser.add_argument("--no-venv", action="store_true",
                        help="use the current Python, which must have the packages")
    parser.add_argument("--rows", type=int, default=100_000, help="part 1 vectors (100000)")
    parser.add_argument("--dims", type=int, default=384, help="dimensions (default 384)")
    parser.add_argument("--clusters", type=int, default=20, help="planted clusters (default 20)")
    parser.add_argument("--spread", type=float, default=1.0,
                        help="standard deviation of the centres' coordinates (default 1.0)")
    parser.add_argument("--data-seed", type=int, default=7, help="seed of the mixtures")
    parser.add_argument("--max-iter", type=int, default=100,
                        help="k-means iteration cap; mini-batch: passes (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--runs", type=int, default=3,
                        help="k-means runs per method, seeds seed..seed+runs-1 (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads for both (default 2)")
    parser.add_argument("--large-rows", type=int, default=1_000_000,
                        help="part 2 vectors (default 1000000)")
    parser.add_argument("--batch", type=int, default=4096, help="mini-batch size (default 4096)")
    parser.add_argument("--quality-sample", type=int, default=20_000,
                        help="rows of the mixture in part 3 (default 20000)")
    parser.add_argument("--packages-per-section", type=int, default=300,
                        help="package descriptions per section (default 300)")
    parser.add_argument("--hdbscan-pca", type=int, default=16,
                        help="dimensions HDBSCAN works in, by PCA (default 16, as the app)")
    parser.add_argument("--neighbours", type=int, default=15, help="UMAP neighbours (15)")
    parser.add_argument("--min-dist", type=float, default=0.1, help="UMAP min_dist (0.1)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "CLUSTER_RESULTS.md",
                        help="markdown results, written when the Lakebook binary ran "
                             "(default bench/CLUSTER_RESULTS.md)")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}: choose from {', '.join(PARTS)}")
    if args.runs < 1 or args.threads < 1 or args.max_iter < 1:
        parser.error("--runs, --threads and --max-iter must be at least 1")

    limit_threads(args.threads)
    if not args.no_venv:
        ensure_venv(args.venv, list(PACKAGES), __file__)
    np, sklearn, threadpool_limits = import_libraries()
    lakebook = find_lakebook(args.lakebook, "scikit-learn only")

    report = header_lines(sklearn, np, lakebook, args)
    base = mixture(args.rows, args.dims, args.clusters, args.spread, args.data_seed, np)
    if "speed" in parts:
        vectors, truth = base.load(np)
        rows = [sklearn_kmeans(vectors, truth, args.clusters, args, np, threadpool_limits),
                lakebook_kmeans(lakebook, base, args.clusters, args)]
        del vectors
        report += ["## 1. k-means speed", "", base.description + ".", ""]
        report += kmeans_table(rows) + target_lines(rows) + [""]
    if "minibatch" in parts:
        large = mixture(args.large_rows, args.dims, args.clusters, args.spread, args.data_seed,
                        np)
        vectors, truth = large.load(np)
        rows = [sklearn_kmeans(vectors, truth, args.clusters, args, np, threadpool_limits,
                               batch=args.batch),
                lakebook_kmeans(lakebook, large, args.clusters, args, batch=args.batch)]
        del vectors
        report += ["## 2. Mini-batch k-means at scale", "", large.description + ".",
                   f"Batches of {args.batch:,} rows, at most {args.max_iter} passes over the data "
                   f"on both sides.", ""]
        report += kmeans_table(rows) + [""]
    datasets: list[Vectors] = []
    if "quality" in parts or "projection" in parts:
        datasets = [digits(np)]
        found = packages(lakebook, args.packages_per_section, args.seed, np)
        if isinstance(found, str):
            report += [f"(package descriptions left out: {found})", ""]
        else:
            datasets.append(found)
    if "quality" in parts:
        labelled = [mixture_sample(base, args.quality_sample, args.seed, np)] + datasets
        rows = []
        for data in labelled:
            vectors, truth = data.load(np)
            min_cluster_size = max(5, min(50, data.rows // (data.groups * 10)))
            rows.append((data.name, sklearn_kmeans(vectors, truth, data.groups, args, np,
                                                   threadpool_limits)))
            rows.append((data.name, lakebook_kmeans(lakebook, data, data.groups, args)))
            points = reduced(data, args.hdbscan_pca, args, np, threadpool_limits)
            vectors, truth = points.load(np)
            rows.append((data.name, sklearn_hdbscan(vectors, truth, min_cluster_size, args, np,
                                                    threadpool_limits)))
            rows.append((data.name, lakebook_hdbscan(lakebook, points, min_cluster_size, args)))
        report += ["## 3. Quality on labelled data", "",
                   "k-means with k = the number of known groups (mean of the runs); HDBSCAN on "
                   f"the same PCA to {args.hdbscan_pca} dimensions on both sides, noise counted "
                   "as one more cluster in ARI and NMI. Data:", ""]
        report += [f"- {data.name}: {data.description}; {data.rows:,} rows, {data.groups} "
                   f"groups." for data in labelled]
        report += [""] + quality_table(rows) + [""]
    if "projection" in parts:
        rows = []
        for data in datasets:
            rows += [(data.name, row) for row in projections(lakebook, data, args, np,
                                                              threadpool_limits)]
        report += ["## 4. 2-D projection", "",
                   f"UMAP with {args.neighbours} neighbours and min_dist {args.min_dist:g} on "
                   "both sides; trustworthiness measures how many of each point's nearest "
                   "neighbours in the layout are near it in the original space (1 is best).", ""]
        report += projection_table(rows) + [""]
        if lakebook is not None:
            report += umap_scale_lines(lakebook, base, args)

    text = "\n".join(report).rstrip() + "\n"
    print(text)
    if lakebook is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"written to {args.out}", file=sys.stderr)
    else:
        print(f"not written to {args.out}: Lakebook did not run", file=sys.stderr)


if __name__ == "__main__":
    main()
