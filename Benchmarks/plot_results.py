"""Plots chunks per second against threads and against chunks per batch, for voxenc and its peers, from the JSON
results in Benchmarks/results/ (made by `voxenc bench --json` and Benchmarks/peers/run_peers.py).

    pip install matplotlib && python3 Benchmarks/plot_results.py   # → docs/plots/*.png
"""
import glob
import json
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
RESULTS = os.path.join(REPO, "Benchmarks", "results")
PLOTS = os.path.join(REPO, "docs", "plots")


def voxenc_runs():
    """The newest voxenc bench sweep (sweep-voxtral-mini-<commit>.jsonl)."""
    runs = []
    paths = sorted(glob.glob(os.path.join(RESULTS, "sweep-voxtral-mini-*.jsonl")), key=os.path.getmtime)[-1:]
    for path in paths:
        for line in open(path):
            record = json.loads(line)
            if "threads" in record:
                runs.append(record)
    return runs


def peers():
    by_threads = {}
    for path in glob.glob(os.path.join(RESULTS, "peers-*.json")):
        if not re.fullmatch(r"peers-\d+threads?\.json", os.path.basename(path)):
            continue  # peers-batch-*, peers-int8-*: other plots and tables
        record = json.load(open(path))
        by_threads[record["threads"]] = record["seconds_per_chunk"]
    return by_threads


def main():
    os.makedirs(PLOTS, exist_ok=True)
    runs = voxenc_runs()
    peer = peers()

    # Chunks per second against threads: voxenc and the peers from the same side-by-side runs (run_peers.py).
    fig, ax = plt.subplots(figsize=(9, 4))
    # Engines on the same footing (encode, or encode + adapter); whole-process runs are in the docs' tables.
    names = sorted({name for results in peer.values() for name in results
                    if name != "voxenc" and "embed" not in name and "pipeline" not in name})
    for name in ["voxenc"] + names:
        points = sorted((t, 1 / results[name]) for t, results in peer.items() if name in results)
        style = "o-" if name.startswith("voxenc") else "s--"
        ax.plot([t for t, _ in points], [c for _, c in points], style,
                label="voxenc f32 (encoder + adapter)" if name == "voxenc" else name)
    ax.set_xlabel("threads")
    ax.set_ylabel("30 s chunks per second")
    ax.set_title("Voxtral-Mini-shaped encoder, 2-core AMD EPYC (Zen 4)")
    ax.set_xticks(sorted(peer))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(os.path.join(PLOTS, "chunks-per-second-vs-threads.png"), dpi=120)

    # Chunks per second against chunks per batch: voxenc's sweep per thread count (voxenc bench), and voxenc with
    # its peers side by side from batch_sweep.py.
    fig, ax = plt.subplots(figsize=(9, 4))
    for threads in sorted({r["threads"] for r in runs}):
        points = sorted((r["chunksPerBatch"], r["chunksPerSecond"]) for r in runs if r["threads"] == threads)
        ax.plot([b for b, _ in points], [c for _, c in points], "o-", label=f"voxenc f32 bench, {threads} thread(s)")
    batches = set()
    for path in sorted(glob.glob(os.path.join(RESULTS, "peers-batch-*.json"))):
        record = json.load(open(path))
        by_batch = {int(b): row for b, row in record["seconds_per_chunk_by_batch"].items()}
        batches |= set(by_batch)
        names = [n for n in next(iter(by_batch.values())) if "ratio" not in n]
        for name in names:
            points = sorted((b, 1 / row[name]) for b, row in by_batch.items() if name in row)
            style = "o:" if name.startswith("voxenc") else "s--"
            ax.plot([b for b, _ in points], [c for _, c in points], style,
                    label=f"{name.replace(' (encoder only)', '')}, {record['threads']} threads (side by side)")
    ax.set_xlabel("chunks per batch (one call over all their rows)")
    ax.set_ylabel("30 s chunks per second")
    ax.set_title("Voxtral-Mini-shaped encoder, 2-core AMD EPYC (Zen 4)")
    ax.set_xticks(sorted({r["chunksPerBatch"] for r in runs} | batches))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(os.path.join(PLOTS, "chunks-per-second-vs-batch.png"), dpi=120)
    print("wrote", os.listdir(PLOTS))


if __name__ == "__main__":
    main()
