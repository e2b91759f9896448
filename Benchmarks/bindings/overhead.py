"""The bindings' cost per file, side by side in one run: the Swift library (voxenc-bench files), the Python package
(voxenc.Model.embed), and the CLI (one `voxenc embed` process per file, model load included), same model, files and
threads. Prints seconds per file and the Python package's throughput as a fraction of the Swift library's.

    swift build -c release --product voxenc-bench && Tests/bindings/run.sh   # (the package installed)
    python3 Benchmarks/bindings/overhead.py [--model Weights/models/whisper-tiny.en] [--threads 2] [--repeats 5]
        [--json Benchmarks/results/…/bindings.json]
Engines alternate pass by pass; the median pass counts. Run it on a quiet machine.
"""
import argparse
import json
import os
import platform
import subprocess
import time

import numpy as np

import voxenc

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
AUDIO = os.path.join(REPO, "Tests", "Fixtures", "audio")


def swift_library(bench, model, files, threads, repeats):
    out = subprocess.run([bench, "files", "--model", model, "--threads", str(threads), "--repeats", str(repeats),
                          "--json", *files], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["passes"]


def python_package(model, files, threads, repeats):
    m = voxenc.Model(model, threads=threads)
    for f in files:
        m.embed(f)  # warm-up, as voxenc-bench files
    passes = []
    for _ in range(repeats):
        start = time.perf_counter()
        for f in files:
            m.embed(f).array
        passes.append((time.perf_counter() - start) / len(files))
    m.close()
    return passes


def cli_processes(cli, model, files, threads, repeats, work):
    passes = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i, f in enumerate(files):
            subprocess.run([cli, "embed", f, "--model", model, "--threads", str(threads), "-o",
                            os.path.join(work, f"{i}.npy"), "--force"], check=True, capture_output=True)
        passes.append((time.perf_counter() - start) / len(files))
    return passes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.path.join(REPO, "Weights", "models", "whisper-tiny.en"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--bench", default=os.path.join(REPO, ".build", "release", "voxenc-bench"))
    ap.add_argument("--cli", default=os.path.join(REPO, ".build", "release", "voxenc"))
    ap.add_argument("--json")
    args = ap.parse_args()
    files = [os.path.join(AUDIO, f) for f in sorted(os.listdir(AUDIO))]
    import tempfile
    results = {"swift library": [], "python package": [], "cli process": []}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.repeats):  # alternate: a busy neighbour slows every engine alike
            results["swift library"] += swift_library(args.bench, args.model, files, args.threads, 1)
            results["python package"] += python_package(args.model, files, args.threads, 1)
            results["cli process"] += cli_processes(args.cli, args.model, files, args.threads, 1, work)
    medians = {k: float(np.median(v)) for k, v in results.items()}
    info = voxenc.build_info()
    print(f"{info['cpu']} ({info['vector_level']}), {args.threads} threads, {os.path.basename(args.model)}, "
          f"{len(files)} files, median of {args.repeats} passes:")
    for name, seconds in medians.items():
        print(f"  {name:16s} {seconds * 1000:8.1f} ms per file   throughput ×{medians['swift library'] / seconds:.3f} "
              f"of the Swift library's")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": info["cpu"], "build": info, "machine": platform.machine(), "threads": args.threads,
                       "model": os.path.basename(args.model), "files": [os.path.basename(f) for f in files],
                       "seconds_per_file": medians, "passes": results}, f, indent=1)


if __name__ == "__main__":
    main()
