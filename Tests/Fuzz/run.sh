#!/usr/bin/env bash
# Builds the libFuzzer targets (swiftc -sanitize=fuzzer,address) from this checkout's library sources and runs them
# one after another, one process each, reporting PASS/FAIL per target. See Tests/Fuzz/README.md.
#
#   Tests/Fuzz/run.sh [seconds-per-target] [target...]      targets: safetensors ctranslate2 numpy audio (default: all)
#   Tests/Fuzz/run.sh build [target...]                     only build
#
# Environment: VOXENC_FUZZ_WORK (default <repo>/.build-fuzz: build products, growing corpora, logs, crash artifacts),
# VOXENC_FUZZ_SKIP_BUILD=1 (reuse the last build), VOXENC_FUZZ_FLAGS (extra libFuzzer flags), SWIFTC (default swiftc),
# VOXENC_FUZZ_SOURCES (a checkout whose Sources/ to fuzz instead of this one's, e.g. a copy with a fix applied).
set -euo pipefail

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$FUZZ_DIR/../.." && pwd)
BUILD_ONLY=0
if [[ ${1:-} == build ]]; then
    BUILD_ONLY=1 SECONDS_PER_TARGET=0
    shift
else
    SECONDS_PER_TARGET=${1:-600}
    shift $(( $# > 0 ? 1 : 0 ))
fi
ALL_TARGETS=(safetensors ctranslate2 numpy audio)
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")
WORK=${VOXENC_FUZZ_WORK:-$ROOT/.build-fuzz}
SWIFTC=${SWIFTC:-swiftc}
SOURCES=$(cd "${VOXENC_FUZZ_SOURCES:-$ROOT}" && pwd)/Sources
# Swift's own crash backtracer would take the signal before libFuzzer (slow, and no crash artifact): libFuzzer and
# ASan print the stack instead.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
[[ $SECONDS_PER_TARGET =~ ^[0-9]+$ ]] && [[ $BUILD_ONLY == 1 || $SECONDS_PER_TARGET -gt 0 ]] \
    || { echo "usage: $0 [seconds-per-target] [target...] | $0 build [target...]" >&2; exit 64; }

# target name → Swift file stem
stem() {
    case $1 in
        safetensors) echo SafeTensors ;; ctranslate2) echo CTranslate2 ;; numpy) echo Numpy ;; audio) echo Audio ;;
        *) echo "unknown target '$1' (known: ${ALL_TARGETS[*]})" >&2; exit 64 ;;
    esac
}
for target in "${TARGETS[@]}"; do stem "$target" >/dev/null; done

# Per-target libFuzzer options. -timeout: one input taking longer is a hang. -rss_limit_mb / -malloc_limit_mb: one
# input needing more is a finding (a 1 KB file must not make the loader allocate gigabytes).
options() {
    case $1 in
        audio) echo "-timeout=20 -rss_limit_mb=2560 -malloc_limit_mb=1024 -max_len=16384" ;;
        numpy) echo "-timeout=10 -rss_limit_mb=2048 -max_len=70000" ;;  # long enough for a > 64 KiB header
        *) echo "-timeout=10 -rss_limit_mb=2048 -max_len=16384" ;;
    esac
}

build() {
    local build=$WORK/build
    mkdir -p "$build/modules" "$build/obj" "$build/bin"
    local packages=(sndfile soxr fftw3f openblas)
    pkg-config --exists "${packages[@]}" || { echo "pkg-config cannot find ${packages[*]} (see README.md)" >&2; exit 69; }
    local clang=() flag
    for flag in $(pkg-config --cflags "${packages[@]}"); do clang+=(-Xcc "$flag"); done
    # shellcheck disable=SC2207
    local libs=($(pkg-config --libs "${packages[@]}"))
    local common=(-O -g -sanitize=fuzzer,address -parse-as-library -swift-version 6 -use-ld=lld
                  -I "$SOURCES/COpenBLAS" -I "$SOURCES/CFFTW3" -I "$SOURCES/CSndFile"
                  -I "$SOURCES/CSoxr" -I "$SOURCES/CVoxEncKernels/include" -I "$build/modules" "${clang[@]}")
    # The C element-wise kernels (run-time ISA dispatch, no -march), instrumented with ASan like the Swift code.
    local kernels=() file
    for file in "$SOURCES"/CVoxEncKernels/*.c; do
        kernels+=("$build/obj/$(basename "$file" .c).o")
        clang -std=c11 -O2 -g -fsanitize=address -I "$SOURCES/CVoxEncKernels/include" -c "$file" -o "${kernels[-1]}"
    done
    # The library modules in dependency order, each whole-module into one object (instrumented, no main).
    local module
    for module in VoxEncModel VoxEncAudio VoxEnc; do
        echo "building $module"
        local sources=()
        mapfile -t sources < <(find "$SOURCES/$module" -name '*.swift' | sort)
        "$SWIFTC" "${common[@]}" -module-name "$module" -wmo -emit-module \
            -emit-module-path "$build/modules/$module.swiftmodule" -c "${sources[@]}" -o "$build/obj/$module.o"
    done
    # Each target: its file + the shared helper, linked with libFuzzer's main.
    local target
    for target in "${TARGETS[@]}"; do
        local name; name=$(stem "$target")
        echo "linking fuzz-$target"
        "$SWIFTC" "${common[@]}" -module-name "Fuzz$name" "$FUZZ_DIR/Targets/FuzzInput.swift" \
            "$FUZZ_DIR/Targets/Fuzz$name.swift" "$build/obj/VoxEncModel.o" "$build/obj/VoxEncAudio.o" \
            "$build/obj/VoxEnc.o" "${kernels[@]}" "${libs[@]}" -lm -o "$build/bin/fuzz-$target"
    done
}

[[ ${VOXENC_FUZZ_SKIP_BUILD:-0} == 1 ]] || build
[[ $BUILD_ONLY == 0 ]] || exit 0

# The targets write each input to a file here (memory-backed where /dev/shm exists); removed when the script ends.
shm=/dev/shm; [[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
VOXENC_FUZZ_TMPDIR=$(mktemp -d "$shm/voxenc-fuzz.XXXXXX")
export VOXENC_FUZZ_TMPDIR
trap 'rm -rf "$VOXENC_FUZZ_TMPDIR"' EXIT

declare -A RESULT
failed=0
for target in "${TARGETS[@]}"; do
    binary=$WORK/build/bin/fuzz-$target
    [[ -x $binary ]] || { echo "missing $binary (build first)" >&2; exit 69; }
    corpus=$WORK/corpus/$target        # grows while fuzzing; the committed seeds stay read-only
    artifacts=$WORK/artifacts/$target
    logs=$WORK/logs/$target
    mkdir -p "$corpus" "$artifacts" "$logs"
    rm -f "$logs"/fuzz-*.log
    before=$(find "$artifacts" -type f | wc -l)
    echo "fuzzing $target for ${SECONDS_PER_TARGET}s (log: $logs/fuzz-0.log)"
    status=0
    # shellcheck disable=SC2046
    (cd "$logs" && "$binary" -jobs=1 -workers=1 -max_total_time="$SECONDS_PER_TARGET" $(options "$target") \
        -print_final_stats=1 -artifact_prefix="$artifacts/" ${VOXENC_FUZZ_FLAGS:-} \
        "$corpus" "$FUZZ_DIR/Corpus/$target") > "$logs/driver.log" 2>&1 || status=$?
    log=$logs/fuzz-0.log
    runs=$(grep -ho 'stat::number_of_executed_units: *[0-9]*' "$log" 2>/dev/null | grep -o '[0-9]*$' | tail -1 || true)
    took=$(grep -ho 'Done [0-9]* runs in [0-9]* second' "$log" 2>/dev/null | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1 || true)
    after=$(find "$artifacts" -type f | wc -l)
    if [[ $status -eq 0 && $after -eq $before ]] && grep -q '^Done ' "$log" 2>/dev/null; then
        RESULT[$target]="PASS  ${runs:-?} runs in ${took:-?}s"
    else
        RESULT[$target]="FAIL  exit $status; new artifacts in $artifacts: $((after - before)); see $log"
        failed=1
        grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|Fatal error|fuzz invariant' "$log" 2>/dev/null | sed 's/^/      /' || true
    fi
    echo "$target: ${RESULT[$target]}"
done

echo
echo "summary (${SECONDS_PER_TARGET}s per target):"
for target in "${TARGETS[@]}"; do printf '  %-12s %s\n' "$target" "${RESULT[$target]}"; done
exit $failed
