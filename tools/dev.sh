#!/usr/bin/env bash
# One entry point for setting up, building and testing dfirc on Debian 12.
#
#   tools/dev.sh deps      install missing Debian packages (no-op when present)
#   tools/dev.sh build     deps + configure + build (build/)
#   tools/dev.sh example   build + run the example program
#   tools/dev.sh test      build + run every test (GoogleTest + lit) through ctest
#
# BUILD_DIR overrides the build directory (default: build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

PACKAGES=(
  build-essential cmake ninja-build python3 default-jre-headless
  antlr4 libantlr4-runtime-dev uuid-dev libssl-dev
  llvm-19-dev llvm-19-tools libzstd-dev
  libabsl-dev libcli11-dev libgtest-dev libgmock-dev
  graphviz wamerican valgrind
)

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "dev.sh: installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}

build() {
  deps
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  fi
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}

case "${1:-}" in
  deps) deps ;;
  build) build ;;
  example)
    build
    "$BUILD_DIR/bin/dfirc" run "$ROOT/examples/countdown/countdown.dfir"
    printf 'the cat saw the dog\n' | "$BUILD_DIR/bin/dfirc" run "$ROOT/examples/wordcount/wordcount.dfir"
    "$BUILD_DIR/bin/dfirc" build --emit=ir --print-analysis=stratify,subgraphs \
      "$ROOT/examples/reachability/reachability.dfir" -o -
    # A leader and three workers: embedded, then as four processes over TCP.
    "$BUILD_DIR/bin/dfirc" run "$ROOT/examples/fleet/fleet.dfir" --prefix
    "$BUILD_DIR/bin/dfirc" build "$ROOT/examples/fleet/fleet.dfir" -o "$BUILD_DIR/examples/fleet" --base-port 0
    "$BUILD_DIR/bin/dfirc" launch "$BUILD_DIR/examples/fleet/deploy.json" --timeout 60
    ;;
  test)
    build
    cd "$BUILD_DIR"
    ctest --output-on-failure -j "$(nproc)"
    ;;
  *)
    echo "usage: tools/dev.sh deps|build|example|test" >&2
    exit 2
    ;;
esac
