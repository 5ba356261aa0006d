#!/usr/bin/env bash
# Installs what building and testing Lakebook needs on a Debian machine, once.
# Safe to run again: it only installs what is missing.
set -euo pipefail

need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)   # Lance compiles .proto files
command -v mold >/dev/null 2>&1 || need+=(mold)                   # fast linker, see .cargo/config.toml
command -v cc >/dev/null 2>&1 || need+=(build-essential)
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
