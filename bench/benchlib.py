"""Helpers the benchmark scripts share: their virtual environments, how they
find the Lakebook binary, the command line they report, and number formats.

Each script runs as `python3 bench/NAME.py`, so this module imports as
`benchlib` from the script's own folder.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Set when a script re-runs itself inside its virtual environment.
IN_VENV_FLAG = "LAKEBOOK_BENCH_IN_VENV"
# The command line the user typed, kept across that re-run for the report.
COMMAND_ENV = "LAKEBOOK_BENCH_COMMAND"
# Written into a venv after installing: the requirements it holds.
REQUIREMENTS_MARKER = ".lakebook-requirements"


def command_line() -> str:
    """The command that started the benchmark, as the user typed it (the
    script relative to the working folder when it lies below it)."""
    typed = os.environ.get(COMMAND_ENV)
    if typed:
        return typed
    script = Path(sys.argv[0])
    try:
        script = script.resolve().relative_to(Path.cwd())
    except ValueError:
        pass
    return shlex.join(["python3", str(script), *sys.argv[1:]])


def ensure_venv(venv: Path, requirements: list[str], script: str) -> None:
    """Re-runs `script` (the caller's `__file__`) with the Python of `venv`,
    creating the venv first and installing `requirements` into it when it
    does not hold them yet (network needed that once). Returns at once when
    already running inside it."""
    venv = venv.expanduser()
    if Path(sys.prefix).resolve() == venv.resolve() or os.environ.get(IN_VENV_FLAG):
        return
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} ...", file=sys.stderr)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    marker = venv / REQUIREMENTS_MARKER
    wanted = "\n".join(requirements) + "\n"
    if not marker.exists() or marker.read_text(encoding="utf-8") != wanted:
        print(f"installing into {venv}: {' '.join(requirements)}", file=sys.stderr)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *requirements],
            check=True,
        )
        marker.write_text(wanted, encoding="utf-8")
    env = dict(os.environ)
    env[IN_VENV_FLAG] = "1"
    env.setdefault(COMMAND_ENV, command_line())
    script_path = str(Path(script).resolve())
    os.execve(str(python), [str(python), script_path, *sys.argv[1:]], env)


def find_lakebook(given: str | None, without: str) -> Path | None:
    """The Lakebook binary: `given`, else a release or debug build in the
    cargo target folder (`CARGO_TARGET_DIR`, ~/.cache/lakebook-target or `target/`), else None after
    saying the benchmark runs `without` it (e.g. "igraph only")."""
    if given:
        path = Path(given).expanduser()
        if not path.exists():
            sys.exit(f"error: --lakebook {given}: no such file")
        return path.resolve()
    # scripts/env.sh puts builds in ~/.cache/lakebook-target unless CARGO_TARGET_DIR says otherwise.
    targets = [Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "lakebook-target")), ROOT / "target"]
    candidates = [t / profile / "lakebook" for profile in ("release", "debug") for t in targets]
    for candidate in candidates:
        if candidate.exists():
            print(f"using {candidate} (pass --lakebook to choose)", file=sys.stderr)
            return candidate
    print(f"no Lakebook binary found: {without} (pass --lakebook)", file=sys.stderr)
    return None


def fmt(value: float | None, digits: int) -> str:
    """`value` with `digits` decimals, or a dash when missing."""
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_seconds(value: float | None) -> str:
    """Seconds: three decimals, five below 10 ms."""
    if value is None:
        return "–"
    return f"{value:.3f}" if value >= 0.01 else f"{value:.5f}"


def fmt_ratio(value: float | None, digits: int = 2) -> str:
    """A ratio such as "0.44×" (two significant digits below 0.1)."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}×" if value >= 0.1 else f"{value:.2g}×"
