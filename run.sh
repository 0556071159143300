#!/usr/bin/env bash
# cryptcom's one entry point: installs what is missing, builds, and runs.
#   ./run.sh demo    two processes on localhost, plaintext in, one-time-key ciphertext on the wire
#   ./run.sh test    the whole suite (gcc), again under ASan+UBSan and TSan (clang), then the fuzzer
#   ./run.sh bench   plaintext ZeroMQ vs CURVE vs cryptcom, side by side  [bench args...]
#   ./run.sh build   configure and build only
#   ./run.sh package Debian packages (CPack): libcryptcom0.2, libcryptcom-dev, cryptcom-tools
# Environment: JOBS (default: nproc), FUZZ_SECONDS (default 30), CRYPTCOM_VECTORS_DIR.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
jobs=${JOBS:-$(nproc)}

packages=(g++ clang cmake ninja-build pkgconf git libzmq3-dev cppzmq-dev libsodium-dev
          libmsgpack-cxx-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
          llvm gnuplot-nox
          # the Python package's tests: Debian's python3 with pyzmq and pytest; pip and venv for
          # the `pip install ./bindings/python` test (offline: Debian's setuptools and wheel)
          python3 python3-zmq python3-pytest python3-pip python3-venv python3-setuptools
          python3-wheel
          # the second implementation of the protocol (tests/interop): X25519 and the AEADs
          python3-cryptography
          # czmq's library, to check that `cryptcom keygen` writes what zcert_load reads
          libczmq4)
# ./run.sh package also needs dpkg-shlibdeps (dpkg-dev) and file, which CPack's DEB generator runs.
package_tools=(dpkg-dev file)

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in "${packages[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
}

vectors_arg=()
[ -n "${CRYPTCOM_VECTORS_DIR:-}" ] && vectors_arg=(-DCRYPTCOM_VECTORS_DIR="$CRYPTCOM_VECTORS_DIR")

# configure_build DIR [cmake args...] [-- targets...]: all targets unless some are named.
configure_build() {
  local dir=$1
  shift
  local args=() targets=()
  while (($#)); do
    if [ "$1" = "--" ]; then
      shift
      targets=("$@")
      break
    fi
    args+=("$1")
    shift
  done
  cmake -S "$root" -B "$dir" -G Ninja "${vectors_arg[@]}" "${args[@]}" >/dev/null
  if ((${#targets[@]})); then
    cmake --build "$dir" -j "$jobs" --target "${targets[@]}"
  else
    cmake --build "$dir" -j "$jobs"
  fi
}

build_release() {
  configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++
}

run_ctest() {
  local dir=$1
  shift
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@")
}

cmd_test() {
  log "build (g++, RelWithDebInfo)"
  build_release
  log "test (g++)"
  run_ctest build

  log "build (clang, AddressSanitizer + UndefinedBehaviorSanitizer)"
  configure_build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
    -DCRYPTCOM_SANITIZE=address,undefined -DCRYPTCOM_BUILD_BENCH=OFF
  log "test (ASan + UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest build-asan

  log "build (clang, ThreadSanitizer)"
  configure_build build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
    -DCRYPTCOM_SANITIZE=thread -DCRYPTCOM_BUILD_BENCH=OFF -- cryptcom_keys_tests cryptcom_zmq_tests \
    cryptcom_c_api_test
  log "test (TSan: the threaded parts)"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_ctest build-tsan -L threaded

  log "fuzz (libFuzzer, ${FUZZ_SECONDS:-30} s per target)"
  configure_build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DCRYPTCOM_FUZZ=ON -DCRYPTCOM_BUILD_TESTS=ON -DCRYPTCOM_BUILD_ZMQ=OFF -- fuzz_wire_decode
  local fuzzers=(build-fuzz/tests/fuzz/fuzz_*)
  for f in "${fuzzers[@]}"; do
    [ -x "$f" ] || continue
    local name corpus
    name=$(basename "$f")
    corpus=$(mktemp -d)
    cp -r "tests/fuzz/corpus/${name#fuzz_}/." "$corpus/" 2>/dev/null || true
    "$f" -max_total_time="${FUZZ_SECONDS:-30}" -print_final_stats=1 -rss_limit_mb=2048 \
      "$corpus" 2>&1 | tail -n 12
    rm -rf "$corpus"
  done
  log "all tests passed"
}

cmd_demo() {
  build_release
  build/examples/demo "$@"
}

cmd_bench() {
  build_release
  build/bench/cryptcom_bench "$@"
}

# Debian packages of a shared-library build (build-package/), tests not built.
cmd_package() {
  install_missing "${package_tools[@]}"
  log "build (g++, RelWithDebInfo, shared libraries, prefix /usr)"
  configure_build build-package -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ \
    -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_PREFIX=/usr -DCRYPTCOM_BUILD_TESTS=OFF
  log "package (CPack, DEB)"
  (cd build-package && cpack -G DEB >/dev/null)
  local deb
  for deb in build-package/*.deb; do
    echo "$deb"
    dpkg-deb --field "$deb" Package Version Depends | sed 's/^/    /'
  done
  log "check: the packaged tool runs the packaged echo programs over the packaged libraries"
  local root=build-package/extracted
  rm -rf "$root"
  for deb in build-package/*.deb; do dpkg-deb -x "$deb" "$root"; done
  local libdir endpoint=ipc:///tmp/cryptcom-package-check-$$
  libdir=$(dirname "$(find "$root" -name 'libcryptcom.so.*' -type f | head -n 1)")
  LD_LIBRARY_PATH=$libdir "$root/usr/bin/cryptcom" echo-server --bind "$endpoint" --count 3 \
    --quiet >/dev/null &
  local server=$!
  LD_LIBRARY_PATH=$libdir "$root/usr/bin/cryptcom" echo-client --connect "$endpoint" --count 3 \
    --timeout 10000
  wait "$server"
  rm -f "${endpoint#ipc://}"
}

main() {
  local cmd=${1:-test}
  shift || true
  install_missing
  case "$cmd" in
    test) cmd_test "$@" ;;
    demo) cmd_demo "$@" ;;
    bench) cmd_bench "$@" ;;
    build) build_release ;;
    package) cmd_package ;;
    *)
      echo "usage: $0 demo|test|bench|build|package" >&2
      exit 2
      ;;
  esac
}

main "$@"
