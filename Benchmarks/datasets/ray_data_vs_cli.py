"""Ray Data in-process against the subprocess recipe, on the same shard: one local Ray cluster, the corpus's files
embedded (a) as the "## Ray" recipe of docs/scale-out.md does (one task running `voxenc embed --manifest` over the
shard, `--threads 2`) and (b) as the "## Ray Data (in-process)" recipe does (read_binary_files → map_batches with one
actor of 2 threads holding a voxenc.Model → write_parquet), float16 both; alternating, round after round; wall time
from submitting the work to having every output (the cluster's start is left out: both share it; the actor's model
load is in).

    python3 Benchmarks/datasets/ray_data_vs_cli.py [--model DIR] [--files 24] [--rounds 3] > Benchmarks/results/CPU/datasets-ray-data-vs-cli.json
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import ray
import voxenc

from corpus import REPO, VOXENC, machine, make


@ray.remote(num_cpus=2)
def embed_shard(manifest, out, model):
    import subprocess
    run = subprocess.run([VOXENC, "embed", "--manifest", manifest, "--output-dir", out, "--model", model,
                          "--threads", "2", "--quiet", "--dtype", "float16"], capture_output=True, text=True)
    return run.returncode


class Embed:
    def __init__(self, model):
        self.model = voxenc.Model(model, threads=2, dtype="float16")

    def __call__(self, batch):
        arrays = [self.model.embed_bytes(data, name=path).array for path, data in zip(batch["path"], batch["bytes"])]
        return {"path": list(batch["path"]), "embedding": [a.tobytes() for a in arrays],
                "shape": [list(a.shape) for a in arrays]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(REPO, "Weights", "models", "whisper-base"))
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    manifest = make(work, args.files, 30.0)
    audio = os.path.join(work, "audio")
    ray.init(address="local", num_cpus=3, include_dashboard=False, log_to_driver=False)
    subprocess_name, actor_name = "subprocess (voxenc embed in a shard task)", "in-process (Ray Data actor)"
    times = {subprocess_name: [], actor_name: []}
    for round_index in range(args.rounds):
        out = os.path.join(work, "out")
        for name in (list(times) if round_index % 2 == 0 else list(times)[::-1]):
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            if name == subprocess_name:
                assert ray.get(embed_shard.remote(manifest, out, args.model)) == 0
            else:
                ray.data.read_binary_files(audio, include_paths=True).map_batches(
                    Embed, fn_constructor_args=(args.model,), batch_size=4, concurrency=1, num_cpus=2
                ).write_parquet(out)
            times[name].append(time.perf_counter() - start)
    ray.shutdown()
    base = statistics.median(times[subprocess_name])
    json.dump({"machine": machine(), "model": os.path.relpath(args.model, REPO), "files": args.files,
               "seconds_per_file": 30.0, "threads": 2, "dtype": "float16",
               "runs": {name: {"wall_seconds": t, "median_seconds": statistics.median(t),
                               "throughput_vs_subprocess": base / statistics.median(t)} for name, t in times.items()}},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
