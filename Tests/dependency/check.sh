#!/usr/bin/env bash
# A package that depends on voxenc by git URL and version builds and runs with no environment variable: SwiftPM
# refuses unsafe build flags in versioned dependencies, so this fails if Package.swift ever gains one again.
#   Tests/dependency/check.sh            (CI runs it after the test suite: .ci/run; ≈ 2–4 min on 2 cores)
# Copies this checkout's tracked and new files (uncommitted edits included) into a temporary git repository tagged
# 99.0.0, makes an app whose Package.swift says .package(url: "file://…", from: "99.0.0"), builds it in release and
# runs it: it computes the log-mel of a committed recording, embeds it with the committed tiny Voxtral checkpoint,
# and prints the kernels' instruction set; then once more with VOXENC_KERNEL_ISA=baseline (must print sse2).
# swift-argument-parser resolves as for voxenc itself (here: the local mirror through git's url.insteadOf).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/voxenc-dependency.XXXXXX")"
trap 'rm -rf "$work"' EXIT
unset VOXENC_PORTABLE VOXENC_KERNEL_ISA VOXENC_ONEDNN

# The library as a versioned git repository.
mkdir "$work/voxenc"
(cd "$root" && git ls-files -z --cached --others --exclude-standard) | while IFS= read -r -d '' file; do
    [ -e "$root/$file" ] || continue  # deleted but not yet committed
    mkdir -p "$work/voxenc/$(dirname "$file")"
    cp -p "$root/$file" "$work/voxenc/$file"
done
git -C "$work/voxenc" init -q
git -C "$work/voxenc" add -A
git -C "$work/voxenc" -c user.name=check -c user.email=check@localhost commit -qm "voxenc under test"
git -C "$work/voxenc" tag 99.0.0

# The app.
mkdir -p "$work/app/Sources/App"
cat > "$work/app/Package.swift" <<SWIFT
// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "App",
    dependencies: [.package(url: "file://$work/voxenc", from: "99.0.0")],
    targets: [.executableTarget(name: "App", dependencies: [.product(name: "VoxEnc", package: "voxenc"),
                                                            .product(name: "VoxEncAudio", package: "voxenc")])]
)
SWIFT
cat > "$work/app/Sources/App/main.swift" <<'SWIFT'
import Foundation
import VoxEnc
import VoxEncAudio  // the front end on its own, a product of its own

let root = CommandLine.arguments[1]
let samples = try Waveform(contentsOf: root + "/Tests/Fixtures/audio/speech-16k.wav").samples
let mel = LogMelSpectrogram(configuration: .voxtral).compute(samples)
let embedder = try Embedder(modelDirectory: root + "/Tests/Fixtures/encoder/voxtral-tiny-hf")
let result = try embedder.embed(fileAt: root + "/Tests/Fixtures/audio/speech-16k.wav")
guard mel.frameCount == 3000, result.frameCount == 375, result.values.allSatisfy(\.isFinite) else {
    print("unexpected output: mel \(mel.melBinCount)×\(mel.frameCount), embeddings \(result.frameCount)×\(result.dimension)")
    exit(1)
}
print("kernels \(MachineSummary().elementwiseKernels): mel \(mel.melBinCount)×\(mel.frameCount), "
      + "embeddings \(result.frameCount)×\(result.dimension), \(result.validFrameCount) valid")
SWIFT

cd "$work/app"
echo "building an app that depends on voxenc 99.0.0 by URL (release)…"
swift build -c release 2>&1 | tail -n 3
app="$(swift build -c release --show-bin-path)/App"
output="$("$app" "$root")"
echo "$output"
baseline="$(VOXENC_KERNEL_ISA=baseline "$app" "$root")"
echo "VOXENC_KERNEL_ISA=baseline: $baseline"
case "$baseline" in "kernels sse2:"*) ;; *) echo "VOXENC_KERNEL_ISA=baseline did not select sse2" >&2; exit 1 ;; esac
echo "dependency check passed"
