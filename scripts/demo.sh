#!/usr/bin/env bash
# Builds Lakebook and runs it on the demo lake (in ./demo-lake unless LAKE is set):
# the notebook window when there is a display, the command line otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
lake="${LAKE:-demo-lake}"
cargo build -p lakebook
bin="$CARGO_TARGET_DIR/debug/lakebook"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${NO_GUI:-}" ]; then
    # Builds the lake if needed, then opens it in the notebook window with the demo notebook.
    exec "$bin" --lake "$lake" demo
fi
# No display (or NO_GUI=1): the same demo on the command line.
"$bin" --lake "$lake" demo --no-gui
echo
"$bin" --lake "$lake" ls
echo
"$bin" --lake "$lake" sql "SELECT p.name, sum(o.quantity) AS units FROM orders o JOIN products p ON o.product_sku = p.sku GROUP BY p.name ORDER BY units DESC LIMIT 5"
echo
"$bin" --lake "$lake" search "why do comets have tails" --mode semantic -k 3
