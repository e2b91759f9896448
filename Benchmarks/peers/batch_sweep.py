"""Seconds per 30 s chunk against chunks per batch, voxenc and its peers side by side in one run (random
Voxtral-Mini-shaped weights; CTranslate2 on a Whisper-large-v3-shaped model, the same encoder shape).

    python3 Benchmarks/peers/batch_sweep.py --threads 2 --batches 1,2,4 \
        --json Benchmarks/results/peers-batch-2threads.json
    python3 Benchmarks/plot_results.py        # → docs/plots/chunks-per-second-vs-batch.png

Each engine runs `batch` chunks per call (voxenc: one GEMM over all their rows, `--chunks-per-batch`; PyTorch:
input_features [batch, 128, 3000]; CTranslate2: encode of a [batch, 128, 3000] view), one warm-up call, then one
timed call. Engines alternate within each batch size, so a slow spell of the shared machine hits all of them.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_peers  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,2,4")
    ap.add_argument("--skip", default="", help="comma-separated: voxenc-int8,torch-sdpa,ct2-f32,ct2-int8")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    skip = set(filter(None, args.skip.split(",")))
    results = {}
    work = tempfile.mkdtemp(prefix="voxenc-batch-")
    try:
        ct2 = run_peers.make_ctranslate2_model(work) if not {"ct2-f32", "ct2-int8"} <= skip else None
        for batch in batches:
            row = results.setdefault(str(batch), {})
            bench = run_peers.voxenc_bench(args.threads, batch, "f32", batch)
            row["voxenc"] = bench["encoderSecondsPerChunk"] + bench["stageMilliseconds"]["adapter"] / 1000
            row["voxenc ratio to sgemm"] = bench["ratioToSgemm"]
            if "voxenc-int8" not in skip:
                bench8 = run_peers.voxenc_bench(args.threads, batch, "int8", batch)
                row["voxenc int8"] = bench8["encoderSecondsPerChunk"] + bench8["stageMilliseconds"]["adapter"] / 1000
            if "torch-sdpa" not in skip:
                row["pytorch f32 sdpa"] = run_peers.torch_peer(args.threads, batch, "sdpa", batch)
            for compute, name in (("float32", "ct2-f32"), ("int8", "ct2-int8")):
                if name not in skip:
                    row[f"ctranslate2 {compute} (encoder only)"] = run_peers.ctranslate2_peer(
                        args.threads, batch, compute, ct2, batch=batch)[0]
            print(f"batch {batch}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nseconds per 30 s chunk, {args.threads} thread(s)")
    for batch, row in results.items():
        print(f" {batch} chunk(s) per call:")
        for name, seconds in row.items():
            if "ratio" not in name:
                print(f"  {name:40s} {seconds:7.2f} s   ×{seconds / row['voxenc']:5.2f} of voxenc")
    if args.json:
        commit = subprocess.run(["git", "-C", run_peers.REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        with open(args.json, "w") as f:
            json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "commit": commit,
                       "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
                       "threads": args.threads, "seconds_per_chunk_by_batch": results}, f, indent=1)


if __name__ == "__main__":
    main()
