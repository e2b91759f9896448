#!/usr/bin/env bash
# The scale-out recipes of docs/scale-out.md run on the real engines, on this one machine: Ray (a local cluster),
# Spark (local mode), Slurm (a one-node cluster the test starts), and Kubernetes' Job validated against its schema
# (no container engine here). Each engine test kills a worker mid-run and checks that the engine's own retry or
# requeue finishes the job with every output equal to a single-process run. ≈ 2–3 min on 2 cores.
#   Tests/engines/run.sh [pytest arguments, e.g. -k ray]     (CI: .ci/run, after the unit tests)
# Installs what it needs (idempotent): Debian's slurm-wlm, munge and a Java runtime if none; ray, pyspark,
# kubernetes-validate, datasets, pyarrow and pytest from PyPI, at the versions docs/scale-out.md names; the voxenc
# Python package when it is not installed; the tiny Whisper model; the
# voxenc binary (built if .build/release/voxenc is missing). Ends with one line: "engines: N passed, N failed, N skipped".
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export DEBIAN_FRONTEND=noninteractive

missing=()
for package in slurm-wlm munge; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
command -v java >/dev/null || missing+=(default-jre-headless)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "ray[default]==2.60.0" "pyspark==4.3.0" \
    "kubernetes-validate==1.37.0" "datasets==5.2.0" "pyarrow==26.0.1" pyyaml pytest numpy
# The in-process recipes (Ray Data, datasets) import the voxenc package: installed by Tests/bindings/run.sh in CI,
# else built here (libvoxenc.so, then pip install ./python).
if ! python3 -c 'import voxenc' 2>/dev/null; then
    VOXENC_LIBRARY="$(Sources/CVoxEncABI/build-libvoxenc.sh)" python3 -m pip install -q --disable-pip-version-check \
        --root-user-action=ignore --force-reinstall --no-deps ./python
    rm -rf python/build python/voxenc.egg-info
fi
[ -f Weights/models/whisper-tiny.en/model.bin ] || python3 Weights/tools/install_models.py
if [ -z "${VOXENC:-}" ] && [ ! -x .build/release/voxenc ]; then
    swift build -c release --product voxenc
fi

counts="$(mktemp)"
trap 'rm -f "$counts"' EXIT
status=0
VOXENC_ENGINES_COUNTS="$counts" RAY_USAGE_STATS_ENABLED=0 timeout 1500 \
    python3 -m pytest Tests/engines -p no:cacheprovider -q -rfE "$@" || status=$?
python3 - "$counts" "$status" <<'PY'
import json, sys
counts = json.load(open(sys.argv[1])) if open(sys.argv[1]).read() else {}
total = {k: sum(c[k] for c in counts.values()) for k in ("passed", "failed", "skipped")}
for engine, c in sorted(counts.items()):
    print(f"  {engine}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped")
if int(sys.argv[2]) != 0 and total["failed"] == 0:
    total["failed"] = 1            # pytest itself failed (no test collected, time-out): never a silent pass
print(f"engines: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
PY
exit "$status"
