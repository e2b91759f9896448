"""Throughput of the new outputs against today's float32 files, side by side: one `voxenc embed --manifest` job over
the same corpus (30 s clips: one chunk each) per configuration — float32 files (the default), float16 files, float32
into one tar (--output-tar), float16 into one tar — in a rotating order, round after round; the median wall time of
each, and of its CPU time (user + system, from wait4: less disturbed by other work on a shared machine). Also the
files written per 1 000 inputs and the bytes per hour of audio of each dtype, from the outputs.

    python3 Benchmarks/datasets/throughput.py [--model DIR] [--files 24] [--rounds 5] > Benchmarks/results/CPU/datasets-throughput-MODEL.json
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from corpus import REPO, VOXENC, machine, make

CONFIGURATIONS = {
    "float32 files": [],
    "float16 files": ["--dtype", "float16"],
    "float32 tar": ["--output-tar", "{out}/shard-{{shard}}.tar"],
    "float16 tar": ["--output-tar", "{out}/shard-{{shard}}.tar", "--dtype", "float16"],
}


def run(manifest, model, out, flags, threads):
    flags = [f.format(out=out) for f in flags]
    target = [] if "--output-tar" in flags else ["--output-dir", out]
    start = time.perf_counter()
    process = subprocess.Popen([VOXENC, "embed", "--manifest", manifest, "--model", model, "--threads", str(threads),
                                "--quiet", *target, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    assert status == 0, f"voxenc exited with status {status}"
    files = [os.path.join(d, f) for d, _, names in os.walk(out) for f in names]
    return seconds, usage.ru_utime + usage.ru_stime, len(files), sum(os.path.getsize(f) for f in files)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(REPO, "Weights", "models", "whisper-tiny.en"))
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    manifest = make(work, args.files, args.seconds)
    names = list(CONFIGURATIONS)
    times = {name: [] for name in names}
    cpu = {name: [] for name in names}
    outputs = {}
    run(manifest, args.model, os.path.join(work, "warm"), [], args.threads)          # page cache, model file
    for round_index in range(args.rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            out = os.path.join(work, "out")
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            seconds, cpu_seconds, count, size = run(manifest, args.model, out, CONFIGURATIONS[name], args.threads)
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
            outputs[name] = (count, size)
    audio_hours = args.files * args.seconds / 3600
    base = statistics.median(times["float32 files"])
    base_cpu = statistics.median(cpu["float32 files"])
    result = {"machine": machine(), "model": os.path.relpath(args.model, REPO), "files": args.files,
              "seconds_per_file": args.seconds, "threads": args.threads, "rounds": args.rounds, "configurations": {}}
    for name in names:
        median = statistics.median(times[name])
        count, size = outputs[name]
        result["configurations"][name] = {
            "wall_seconds": times[name], "median_seconds": median, "audio_seconds_per_second": args.files * args.seconds / median,
            "throughput_vs_float32_files": base / median, "cpu_seconds": cpu[name],
            "median_cpu_seconds": statistics.median(cpu[name]),
            "cpu_throughput_vs_float32_files": base_cpu / statistics.median(cpu[name]),
            "output_files": count, "files_written_per_1000_inputs": count * 1000 / args.files,
            "bytes_per_audio_hour": size / audio_hours}
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
