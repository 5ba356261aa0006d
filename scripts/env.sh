# Sourced by the scripts: one target folder outside the clone, shared by every build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lakebook-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
