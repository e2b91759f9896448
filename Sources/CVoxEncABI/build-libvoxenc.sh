#!/usr/bin/env bash
# Builds libvoxenc.so, the C ABI (include/voxenc.h), into DIR (default .build-c/lib): the Swift runtime and
# Foundation linked in statically (-static-stdlib), only the header's functions exported (voxenc.map), soname
# libvoxenc.so. Its own scratch path, so that the main .build keeps its flags. Prints the library's path.
#   Sources/CVoxEncABI/build-libvoxenc.sh [DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/.build-c/lib}"
cd "$root"
swift build -c release --product voxenc-c --scratch-path .build-c -Xswiftc -static-stdlib \
    -Xlinker --version-script="$root/Sources/CVoxEncABI/voxenc.map" -Xlinker -soname=libvoxenc.so >&2
mkdir -p "$out"
# Copied, then renamed into place: a process that has the old file loaded keeps its pages.
cp .build-c/release/libvoxenc-c.so "$out/.libvoxenc.so.tmp"
mv "$out/.libvoxenc.so.tmp" "$out/libvoxenc.so"
echo "$out/libvoxenc.so"
