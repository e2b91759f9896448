#!/usr/bin/env bash
# The wheel and the bundle on a bare machine (CI, ≈ 1–3 min; the root is cached): a minimal Debian 12 root made with
# mmdebstrap (minbase + python3 + python3-pip, no recommends: no toolchain, no -dev package, no OpenBLAS, no FFTW),
# entered with chroot as root. Inside it, as a new user would: `pip install` the wheel (numpy from PyPI), then embed
# the committed speech sample with a small committed model through `python -c 'import voxenc…'`, the wheel's `voxenc`
# command and the bundle's `bin/voxenc` (unpacked in a directory of its own, SHA256SUMS checked). All three must equal
# the source build's output bit for bit, and `ldd` must find every library of the wheel and the bundle. The wheel's
# `voxenc pull` fetches the model over HTTPS from a loopback hub (Tests/hub/hub_server.py) inside the root, and embeds
# the same.
#   Tests/dist/bare-root.sh [WHEEL BUNDLE]       (default: dist/voxenc-*.whl, dist/voxenc-*-linux-x86_64.tar.gz)
# The root is cached as a tarball (VOXENC_ROOT_CACHE, default /var/cache/voxenc; remade after 14 days); a machine
# without it makes it (mmdebstrap from Debian's mirror, apt-get installs mmdebstrap when missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
wheel="${1:-$(ls dist/voxenc-*.whl | head -1)}"
bundle="${2:-$(ls dist/voxenc-*-linux-x86_64.tar.gz | head -1)}"
model=Tests/Fixtures/encoder/voxtral-tiny-hf
speech=Tests/Fixtures/audio/speech-16k.wav
cli="${VOXENC_CLI:-.build/release/voxenc}"
[ "$(id -u)" = 0 ] || { echo "bare-root: needs root (chroot)"; exit 77; }

cache="${VOXENC_ROOT_CACHE:-/var/cache/voxenc}"
image="$cache/bookworm-minbase-python3.tar"
mkdir -p "$cache"
if [ ! -f "$image" ] || [ ! -s "$image" ] || [ -n "$(find "$image" -mtime +14)" ]; then
    rm -rf "$image"
    command -v mmdebstrap >/dev/null || apt-get install -y -q mmdebstrap >/dev/null
    echo "bare-root: making the root (mmdebstrap, minbase + python3 + python3-pip) into $image"
    mmdebstrap --quiet --variant=minbase --include=python3,python3-pip,ca-certificates \
        --aptopt='APT::Install-Recommends "false"' bookworm "$cache/making.tar"   # the format from the name: .tar
    mv "$cache/making.tar" "$image"
fi

work="$(mktemp -d /tmp/voxenc-bare.XXXXXX)"
bare="$work/root"
hub=""
cleanup() {
    [ -n "$hub" ] && kill "$hub" 2>/dev/null || true
    umount "$bare/proc" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$bare"
tar -C "$bare" -xf "$image"
mount -t proc proc "$bare/proc"
# The network as this machine has it (DNS, and the CA bundle of any TLS proxy in between), for pip.
cp /etc/resolv.conf "$bare/etc/resolv.conf"
cp /etc/hosts "$bare/etc/hosts"   # localhost (a real machine has it; mmdebstrap writes none)
cp /etc/ssl/certs/ca-certificates.crt "$bare/etc/ssl/certs/ca-certificates.crt"
mkdir "$bare/t"
cp "$wheel" "$bundle" "$speech" "$bare/t/"
cp -r "$model" "$bare/t/model"
"$cli" embed "$speech" --model "$model" -o "$bare/t/source.npy" --force >/dev/null
# A loopback hub (the pull tests' server) serving the committed fixtures over HTTPS, with a certificate made here and
# added to the root's CA bundle: the wheel's `voxenc pull` fetches the same model from it inside the root (the chroot
# shares this machine's loopback) through the TLS it ships (swift-nio-ssl, the system's CA bundle).
command -v openssl >/dev/null || apt-get install -y -q openssl >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/hub-key.pem" -out "$work/hub-cert.pem" -days 1 \
    -subj "/CN=voxenc test hub" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
cat "$work/hub-cert.pem" >> "$bare/etc/ssl/certs/ca-certificates.crt"
python3 Tests/hub/hub_server.py --root Tests/Fixtures --tls-cert "$work/hub-cert.pem" --tls-key "$work/hub-key.pem" \
    --lifetime 600 > "$work/hub-port" &
hub=$!
for _ in $(seq 100); do [ -s "$work/hub-port" ] && break; sleep 0.1; done
hub_port="$(cat "$work/hub-port")"

cat > "$bare/t/run.sh" <<'INNER'
set -eu
cd /t
fail() { echo "FAIL $*"; exit 1; }
# Bare indeed: no compiler, no Swift, no -dev package, no OpenBLAS, no FFTW, no libsndfile.
for tool in cc gcc swift swiftc; do ! command -v "$tool" >/dev/null || fail "$tool is installed"; done
! dpkg -l | awk '{print $2}' | grep -E -- '-dev(:|$)|openblas|fftw|libsndfile|libsoxr|libdnnl' || fail "a library or -dev package is installed"
echo "ok   the root is bare: $(dpkg -l | grep -c '^ii') packages, no compiler, no Swift, no -dev package, no OpenBLAS, FFTW, libsndfile, soxr, oneDNN"
begin=$(date +%s.%N)
# The two commands.
python3 -m pip install -q --break-system-packages --root-user-action=ignore --disable-pip-version-check /t/voxenc-*.whl
voxenc embed /t/speech-16k.wav --model /t/model -o /t/wheel-cli.npy >/dev/null
end=$(date +%s.%N)
echo "ok   from nothing to an embedding in 2 commands: $(python3 -c "print(round($end - $begin, 1))") s (pip install of the wheel + numpy from PyPI, voxenc embed)"
python3 - <<'PY'
import numpy as np, voxenc
model = voxenc.Model("/t/model", threads=2)
np.save("/t/python.npy", model.embed("/t/speech-16k.wav").array)
PY
mkdir /t/unpacked
tar -C /t/unpacked -xzf /t/voxenc-*-linux-x86_64.tar.gz
bundle=$(ls -d /t/unpacked/voxenc-*)
(cd "$bundle" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS"
mv "$bundle" /t/elsewhere   # it runs from wherever it is unpacked
/t/elsewhere/bin/voxenc embed /t/speech-16k.wav --model /t/model -o /t/bundle-cli.npy >/dev/null
voxenc pull encoder/voxtral-tiny-hf --endpoint "https://127.0.0.1:$HUB_PORT" --dir /t/pulled >/dev/null
voxenc embed /t/speech-16k.wav --model /t/pulled -o /t/pulled-cli.npy >/dev/null
echo "ok   the wheel's voxenc pull fetched the model from a loopback hub over HTTPS: $(ls /t/pulled | tr '\n' ' ')"
site=$(python3 -c 'import os, voxenc; print(os.path.dirname(os.path.dirname(voxenc.__file__)))')
missing=0
for f in "$site"/voxenc/libvoxenc.so "$site"/voxenc/bin/voxenc "$site"/voxenc.libs/* /t/elsewhere/bin/voxenc /t/elsewhere/lib/*; do
    if ldd "$f" 2>&1 | grep -q "not found"; then echo "FAIL ldd $f:"; ldd "$f" | grep "not found"; missing=1; fi
done
[ $missing = 0 ] || exit 1
echo "ok   ldd finds every library of the wheel ($(ls "$site"/voxenc.libs | wc -l) bundled) and of the bundle"
python3 - <<'PY'
import numpy as np
source = np.load("/t/source.npy")
for name in ("python", "wheel-cli", "bundle-cli", "pulled-cli"):
    other = np.load(f"/t/{name}.npy")
    same = other.shape == source.shape and other.dtype == source.dtype and np.array_equal(other.view(np.uint32), source.view(np.uint32))
    print(("ok  " if same else "FAIL"), f"{name}: {list(other.shape)} {'equals' if same else 'differs from'} the source build's output bit for bit")
    if not same:
        raise SystemExit(1)
PY
INNER
status=0
chroot "$bare" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    PIP_DEFAULT_TIMEOUT=180 HUB_PORT="$hub_port" /bin/sh /t/run.sh > "$work/log" 2>&1 || status=$?
cat "$work/log"
passed="$(grep -c '^ok ' "$work/log" || true)"
failed="$(grep -c '^FAIL' "$work/log" || true)"
[ "$status" = 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "bare-root: $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
