#!/usr/bin/env bash
# Idle CPU of the notebook window: opens NOTEBOOK (default: the demo notebook)
# on LAKE in a virtual X display, waits for start-up and for any cell it runs,
# then measures the process's CPU time over SECONDS (default 30) with nobody
# touching it. Prints JSON; the target is under 2% of one core.
#
# usage: scripts/bench-idle.sh [LAKE] [NOTEBOOK] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
lake="${1:-demo-lake}"
notebook="${2:-}"
seconds="${3:-30}"
bin="$CARGO_TARGET_DIR/debug/lakebook"
[ -x "$bin" ] || cargo build -p lakebook
command -v Xvfb >/dev/null || {
    echo "Xvfb is missing: run scripts/setup.sh" >&2
    exit 1
}
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
unset WAYLAND_DISPLAY
display=":$((70 + RANDOM % 9))"
Xvfb "$display" -screen 0 1600x1000x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb $app 2>/dev/null || true' EXIT
sleep 1
if [ -n "$notebook" ]; then
    DISPLAY=$display "$bin" --lake "$lake" open "$notebook" >/dev/null 2>&1 &
else
    DISPLAY=$display "$bin" --lake "$lake" demo >/dev/null 2>&1 &
fi
app=$!
sleep 10
ticks() { awk '{ print $14 + $15 }' "/proc/$app/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
sleep "$seconds"
after=$(ticks)
kill -0 "$app" 2>/dev/null || {
    echo "the window exited during the measurement" >&2
    exit 1
}
awk -v t=$((after - before)) -v hz="$hz" -v s="$seconds" \
    'BEGIN { printf "{\"idle_seconds\": %d, \"cpu_seconds\": %.2f, \"core_share\": %.4f}\n", s, t / hz, t / hz / s }'
