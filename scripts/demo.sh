#!/usr/bin/env bash
# Builds Lakebook and runs it on the demo lake (in ./demo-lake unless LAKE is set).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
lake="${LAKE:-demo-lake}"
cargo build -p lakebook
bin="$CARGO_TARGET_DIR/debug/lakebook"
"$bin" --lake "$lake" demo
echo
"$bin" --lake "$lake" ls
echo
"$bin" --lake "$lake" sql "SELECT p.name, sum(o.quantity) AS units FROM orders o JOIN products p ON o.product_sku = p.sku GROUP BY p.name ORDER BY units DESC LIMIT 5"
