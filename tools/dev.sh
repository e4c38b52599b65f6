#!/usr/bin/env bash
# One entry point for setting up, building and testing dfirc on Debian 12.
#
#   tools/dev.sh deps      install missing Debian packages (no-op when present)
#   tools/dev.sh build     deps + configure + build (build/)
#   tools/dev.sh example   build + run the example program
#   tools/dev.sh test      build + run every test (GoogleTest + lit) through ctest
#   tools/dev.sh sanitize  clang-19 build with AddressSanitizer, UndefinedBehaviorSanitizer
#                          (leaks reported) and the libFuzzer targets (build-asan/),
#                          then every test against it
#   tools/dev.sh fuzz      after `sanitize`: each libFuzzer target for FUZZ_SECONDS (60)
#
# BUILD_DIR overrides the build directory (default: build), ASAN_BUILD_DIR the
# sanitizer build's (default: build-asan).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ASAN_BUILD_DIR="${ASAN_BUILD_DIR:-$ROOT/build-asan}"

PACKAGES=(
  build-essential cmake ninja-build python3 default-jre-headless
  antlr4 libantlr4-runtime-dev uuid-dev libssl-dev
  llvm-19-dev llvm-19-tools libzstd-dev libjemalloc-dev
  libabsl-dev libcli11-dev libgtest-dev libgmock-dev
  graphviz wamerican valgrind strace prometheus python3-yaml podman runc catatonit
  libclang-rt-19-dev
)
# Only for `sanitize` and `fuzz`.
SANITIZE_PACKAGES=(clang-19 libclang-rt-19-dev)

deps() {
  install_missing "${PACKAGES[@]}"
}

install_missing() {
  local missing=()
  for p in "$@"; do
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

sanitize_build() {
  deps
  install_missing "${SANITIZE_PACKAGES[@]}"
  if [ ! -f "$ASAN_BUILD_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$ASAN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 -DDFIR_BUILD_FUZZER=ON
  fi
  cmake --build "$ASAN_BUILD_DIR" -j "$(nproc)"
}

# Every libFuzzer target for FUZZ_SECONDS, from seeds: the test programs for
# the parser, generated frames for the frame check.
fuzz() {
  # A fixed seed by default: the same build explores the same inputs, so this
  # job is a repeatable gate. FUZZ_SEED=0 lets libFuzzer pick one (exploring).
  local seconds="${FUZZ_SECONDS:-60}" seed="${FUZZ_SEED:-1}" work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$work/parse" "$work/frame"
  find "$ROOT/test" "$ROOT/examples" -name '*.dfir' -size -4k -exec cp {} "$work/parse/" \;
  python3 "$ROOT/test/fuzz/mutate-frames.py" "$work/frame" - 200 >/dev/null
  for target in parse frame; do
    echo "dev.sh: fuzzing dfir-$target-fuzzer for $seconds s (seed $seed)"
    (cd "$work" && "$ASAN_BUILD_DIR/bin/dfir-$target-fuzzer" -max_total_time="$seconds" -max_len=4096 \
      -seed="$seed" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 "$work/$target" >"$work/$target.log" 2>&1)
    tail -n 6 "$work/$target.log"
    if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* >/dev/null 2>&1; then
      echo "dev.sh: dfir-$target-fuzzer found a failing input (kept in build-asan/fuzz-failures):" >&2
      # The whole report and the input itself, so that a failure on a
      # machine one cannot log into can still be reproduced.
      sed -n '/^INFO: Seed/p;/ERROR\|runtime error\|check failed\|verifier:/,$p' "$work/$target.log" | head -n 80 >&2
      mkdir -p "$ASAN_BUILD_DIR/fuzz-failures"
      for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
        [ -e "$f" ] || continue
        cp "$f" "$ASAN_BUILD_DIR/fuzz-failures/"
        echo "dev.sh: $(basename "$f") as base64 (base64 -d > input; $target fuzzer or replay on it):" >&2
        base64 "$f" >&2
      done
      return 1
    fi
  done
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
    # Multi-slot Paxos: profiled, then rewritten from its profile.
    "$BUILD_DIR/bin/dfirc" run "$ROOT/examples/protocols/paxos.dfir" --profile "$BUILD_DIR/paxos.json" | tail -1
    "$BUILD_DIR/bin/dfirc" run "$ROOT/examples/protocols/paxos.dfir" --auto-rewrite \
      --use-profile "$BUILD_DIR/paxos.json" 2>&1 | grep -E 'chosen|nothing legal|"client"'
    ;;
  test)
    build
    cd "$BUILD_DIR"
    ctest --output-on-failure -j "$(nproc)"
    ;;
  sanitize)
    sanitize_build
    cd "$ASAN_BUILD_DIR"
    # lit-memcheck is valgrind's job; it does not run under AddressSanitizer.
    ctest --output-on-failure -j "$(nproc)" -E lit-memcheck
    ;;
  fuzz)
    sanitize_build
    fuzz
    ;;
  *)
    echo "usage: tools/dev.sh deps|build|example|test|sanitize|fuzz" >&2
    exit 2
    ;;
esac
