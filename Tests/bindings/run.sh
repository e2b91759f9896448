#!/usr/bin/env bash
# The bindings in CI (≈ 1–2 min after the unit tests): the C ABI, then the Python package.
# 1. Builds libvoxenc.so (Sources/CVoxEncABI/build-libvoxenc.sh), checks that it exports exactly the header's
#    functions and needs no Swift runtime, compiles Tests/bindings/embed_test.c with the system compiler (C99,
#    -Wall -Werror) against the header and the library, and runs it (bit for bit against the CLI's output, against the
#    reference fixture, every error path, 4 threads on one handle); then stream_test.c, the live streams through the
#    Voxtral Realtime fixture (random pieces = the CLI's rows bit for bit, two threads, every error path).
# 2. Installs the Python package from ./python with that library (pip; numpy and pytest from PyPI) and runs its tests
#    (python/tests: bit for bit against the CLI, bad input, threads on one model, the GIL released, Model.stream()).
#   Tests/bindings/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
lib="$(Sources/CVoxEncABI/build-libvoxenc.sh)"
libdir="$(dirname "$lib")"

# Exports: the functions the header declares, no more and no fewer.
declared="$(grep -oE '\bvoxenc_[a-z_]+\(' Sources/CVoxEncABI/include/voxenc.h | tr -d '(' | sort -u)"
exported="$(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | grep '^voxenc_' | sort -u)"
if [ "$declared" != "$exported" ]; then
    echo "FAIL libvoxenc.so exports differ from voxenc.h:"; diff <(echo "$declared") <(echo "$exported") || true; exit 1
fi
echo "ok   libvoxenc.so exports the $(echo "$declared" | wc -l) functions of voxenc.h; needs at run time: $(ldd "$lib" | awk '{print $1}' | grep -v -E 'vdso|ld-linux' | tr '\n' ' ')"
if ldd "$lib" | grep -q libswiftCore; then echo "FAIL libvoxenc.so needs the Swift runtime at run time"; exit 1; fi

# The test tolerances, from the one table the Swift and Python tests read too.
python3 Tests/tolerances/tolerances.py --c-header > "$work/voxenc_tolerances.h"
cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 -I Sources/CVoxEncABI/include -I "$work" Tests/bindings/embed_test.c \
    -L "$libdir" -Wl,-rpath,"$libdir" -lvoxenc -lsndfile -lpthread -lm -o "$work/embed_test"

# The CLI's output for the same file: the CLI of the main build (the unit tests built it; built here if missing). The
# library compiles the same Swift and C sources and calls the same kernels, so the bits must agree.
voxenc="${VOXENC_CLI:-.build/release/voxenc}"
[ -x "$voxenc" ] || swift build -c release --product voxenc >&2
model=Tests/Fixtures/encoder/voxtral-tiny-hf
"$voxenc" embed Tests/Fixtures/audio/speech-16k.wav --model "$model" --threads 2 -o "$work/cli.npy" --force >/dev/null
"$voxenc" embed Tests/Fixtures/audio/speech-16k.wav --model "$model" --threads 2 --encoder-only -o "$work/cli-encoder.npy" --force >/dev/null
mkdir "$work/scratch"
"$work/embed_test" "$root" "$work/cli.npy" "$work/cli-encoder.npy" "$work/scratch"

# Live streams through the causal family (Voxtral Realtime), against the CLI's whole-file rows.
cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 -I Sources/CVoxEncABI/include Tests/bindings/stream_test.c \
    -L "$libdir" -Wl,-rpath,"$libdir" -lvoxenc -lsndfile -lpthread -lm -o "$work/stream_test"
"$voxenc" embed Tests/Fixtures/audio/speech-16k.wav --model Tests/Fixtures/realtime/realtime-tiny-hf --threads 2 \
    -o "$work/cli-realtime.npy" --force >/dev/null
"$work/stream_test" "$root" "$work/cli-realtime.npy"

# The Python package, installed with the library just built (no second build), tested against the same CLI.
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore numpy pytest ml_dtypes webdataset
VOXENC_LIBRARY="$lib" python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --force-reinstall \
    --no-deps ./python
rm -rf python/build python/voxenc.egg-info
(cd "$work" && VOXENC_CLI="$(cd "$root" && realpath "$voxenc")" python3 -m pytest -p no:cacheprovider -q -rs "$root/python/tests")
