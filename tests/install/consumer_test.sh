#!/usr/bin/env bash
# The install test: stage `cmake --install` of this build (DESTDIR), then build a project outside
# the tree against it twice, with find_package (consumer/CMakeLists.txt) and with pkg-config, in
# C++ (cryptcom::zmq) and in C (cryptcom.h), and run the four programs against an echo_server of
# this build.
#   consumer_test.sh BUILD_DIR SOURCE_DIR ECHO_SERVER CXX CC
set -euo pipefail
build=$1 source=$2 echo_server=$3 cxx=$4 cc=$5
work=$build/install-test
rm -rf "$work"
mkdir -p "$work"
stage=$work/stage

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
echo "== staged install of $build (prefix $prefix) into $stage"
DESTDIR=$stage cmake --install "$build" >"$work/install.log"
for f in include/cryptcom.h include/cryptcom/engine.hpp include/cryptcom/zmq/socket.hpp \
         "$libdir/cmake/cryptcom/cryptcomConfig.cmake" "$libdir/pkgconfig/cryptcom-zmq.pc" \
         bin/cryptcom libexec/cryptcom/echo_server; do
  [ -e "$stage$prefix/$f" ] || { echo "missing from the install: $f" >&2; exit 1; }
done
soname=$(readelf -d "$stage$prefix/$libdir/libcryptcom.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[[ $soname == libcryptcom.so.* ]] || { echo "libcryptcom has no versioned SONAME: '$soname'" >&2; exit 1; }
echo "libcryptcom SONAME: $soname"

echo "== consumer with find_package"
cmake -S "$source/tests/install/consumer" -B "$work/cmake" -G Ninja \
  -DCMAKE_PREFIX_PATH="$stage$prefix" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
  >"$work/cmake-configure.log"
cmake --build "$work/cmake" >"$work/cmake-build.log"

echo "== consumer with pkg-config"
export PKG_CONFIG_PATH=$stage$prefix/$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
mkdir -p "$work/pkg-config"
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
"$cxx" -std=c++20 -o "$work/pkg-config/consumer_cpp" "$source/tests/install/consumer/consumer.cpp" \
  $(pkg-config --cflags --libs cryptcom-zmq)
# shellcheck disable=SC2046
"$cc" -std=c99 -o "$work/pkg-config/consumer_c" "$source/tests/install/consumer/consumer.c" \
  $(pkg-config --cflags --libs cryptcom)
pkg-config --modversion cryptcom-zmq

echo "== the consumers against $echo_server"
endpoint=ipc:///tmp/cryptcom-install-test-$$
"$echo_server" --bind "$endpoint" --quiet >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f /tmp/cryptcom-install-test-$$' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/server.log" && break; sleep 0.1; done
export LD_LIBRARY_PATH=$stage$prefix/$libdir  # for libcryptcom.so, found by the loader
for program in "$work/cmake/consumer_cpp" "$work/cmake/consumer_c" \
               "$work/pkg-config/consumer_cpp" "$work/pkg-config/consumer_c"; do
  timeout 60 "$program" "$endpoint"
done
echo "install test passed"
