#!/usr/bin/env python3
"""Load benchmark of `voxenc serve`: a bounded loop (N requests from C concurrent clients), not a timed test.

    python3 Benchmarks/serve/load.py --model Tests/Fixtures/encoder/voxtral-tiny-hf --clients 16 --requests 256
    python3 Benchmarks/serve/load.py --model voxtral-mini --clip-seconds 30 --files 8 --requests 64 --threads 2

1. Writes --files distinct clips of --clip-seconds (deterministic speech-like 16 kHz 16-bit WAV), or takes --audio FILES.
2. Embeds them with `voxenc embed --manifest` (the batch job; the clips repeated under distinct ids to as much audio
   as the load sends), timed: the throughput to compare with (its start-up, measured by a job of one 1 s clip,
   subtracted: the server pays it once), and the expected bytes of every response.
3. Starts `voxenc serve --port 0` with the same --threads and --chunks-per-batch, sends one warm-up request, then
   --requests requests (the clips in turn) from --clients threads, each with its own keep-alive connection; every
   response must be 200 and equal the batch job's .npy byte for byte (else it counts as lost or wrong).
4. Samples the server's RSS every 0.1 s; reports requests/s, audio-seconds/s, p50/p99 latency, peak RSS (VmHWM),
   RSS after each tenth of the requests (flat = memory does not grow with requests served), the manifest job's
   audio-seconds/s and the ratio; SIGTERMs the server and checks it exits 0.

Prints a human summary and, with --json, one JSON line. Standard library + numpy only.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def speech_like(seconds, seed, rate=16000):
    """Deterministic: tones with a syllable-rate envelope plus noise, in [-0.5, 0.5]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 110 + 40 * seed % 90
    voice = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.28)) / k for k in range(1, 6))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t + seed)
    x = 0.25 * voice * envelope / 2.3 + 0.02 * rng.standard_normal(t.size)
    return np.clip(x, -0.5, 0.5)


def write_wav(path, x, rate=16000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((x * 32767).astype("<i2").tobytes())


def rss_kb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (/proc/PID/stat fields 14 and 15)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voxenc", default=os.path.join(REPO, ".build/release/voxenc"))
    parser.add_argument("--model", required=True)
    parser.add_argument("--audio", nargs="*", help="audio files to send (default: generated clips)")
    parser.add_argument("--files", type=int, default=8, help="generated clips")
    parser.add_argument("--clip-seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--chunks-per-batch", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="voxenc-load-")
    try:
        # 1. The clips.
        if args.audio:
            paths = [os.path.abspath(p) for p in args.audio]
        else:
            paths = []
            for i in range(args.files):
                path = os.path.join(work, f"clip{i:03d}.wav")
                write_wav(path, speech_like(args.clip_seconds, seed=i + 1))
                paths.append(path)
        durations = {}
        for p in paths:
            if p.endswith(".wav"):
                with wave.open(p) as w:
                    durations[p] = w.getnframes() / w.getframerate()

        # 2. The batch job over the same files: throughput to compare with, and the expected bytes.
        # As much audio as the load sends (the clips repeated under distinct ids), so that both runs do the same work.
        repeats = max(1, -(-args.requests // len(paths)))
        manifest = os.path.join(work, "manifest.jsonl")
        with open(manifest, "w") as f:
            for r in range(repeats):
                for p in paths:
                    f.write(json.dumps({"id": f"r{r:03d}/{os.path.basename(p)}", "path": p}) + "\n")
        expected_dir = os.path.join(work, "expected")
        common = ["--model", args.model, "--threads", str(args.threads), "--chunks-per-batch", str(args.chunks_per_batch)]
        start = time.monotonic()
        job = subprocess.run([args.voxenc, "embed", "--manifest", manifest, "--output-dir", expected_dir, "--quiet"] + common,
                             capture_output=True, text=True)
        manifest_seconds = time.monotonic() - start
        if job.returncode != 0:
            sys.exit(f"voxenc embed --manifest failed: {job.stderr}")
        expected = {}
        for line in job.stdout.splitlines():
            result = json.loads(line)
            durations[result["input"]] = result["duration_s"]
            with open(result["output"], "rb") as f:
                data = f.read()
            if expected.setdefault(result["input"], data) != data:
                sys.exit(f"voxenc embed --manifest gave two different outputs for {result['input']}")
        audio_total = sum(durations[p] for p in paths) * repeats
        # The job's fixed cost (process start, model load), measured by a job of one 1 s clip, is not throughput: the
        # server pays it once at start. Both the raw and the corrected rate are reported.
        tiny = os.path.join(work, "one-second.wav")
        write_wav(tiny, speech_like(1, seed=99))
        start = time.monotonic()
        subprocess.run([args.voxenc, "embed", tiny, "-o", os.path.join(work, "one-second.npy"), "--quiet"] + common,
                       check=True, capture_output=True)
        startup_seconds = time.monotonic() - start
        manifest_rate = audio_total / max(1e-9, manifest_seconds - startup_seconds)

        # 3. The server.
        stderr_path = os.path.join(work, "serve.stderr")
        stderr = open(stderr_path, "w")
        server = subprocess.Popen([args.voxenc, "serve", "--port", "0", "--max-queue", str(max(64, 2 * args.clients))] + common,
                                  stdout=subprocess.DEVNULL, stderr=stderr)
        port = None
        deadline = time.monotonic() + 120
        while port is None and time.monotonic() < deadline and server.poll() is None:
            with open(stderr_path) as f:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
            port = int(m.group(1)) if m else None
            time.sleep(0.05)
        if port is None:
            sys.exit("voxenc serve did not start: " + open(stderr_path).read())

        bodies = {p: open(p, "rb").read() for p in paths}
        content_type = {p: "audio/wav" if p.endswith(".wav") else "audio/flac" if p.endswith(".flac") else "application/octet-stream"
                        for p in paths}

        def post(conn, path):
            conn.request("POST", "/v1/audio/embeddings?format=npy", body=bodies[path],
                         headers={"Content-Type": content_type[path]})
            response = conn.getresponse()
            return response.status, response.read()

        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
        status, body = post(warm, paths[0])
        warm.close()
        if status != 200 or body != expected[paths[0]]:
            sys.exit(f"warm-up request failed: {status} {body[:200]!r}")

        # 4. The load, RSS sampled meanwhile.
        rss_samples = []
        done_marks = []
        lock = threading.Lock()
        next_index = [0]
        completed = [0]
        latencies = []
        lost = [0]
        wrong = [0]
        stop_sampling = threading.Event()

        def sample():
            while not stop_sampling.is_set():
                value = rss_kb(server.pid)
                if value:
                    rss_samples.append(value)
                stop_sampling.wait(0.1)

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
            while True:
                with lock:
                    i = next_index[0]
                    if i >= args.requests:
                        break
                    next_index[0] += 1
                path = paths[i % len(paths)]
                t0 = time.monotonic()
                try:
                    status, body = post(conn, path)
                except Exception:  # noqa: BLE001 - a lost response, counted
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
                    status, body = None, b""
                elapsed = time.monotonic() - t0
                with lock:
                    if status != 200:
                        lost[0] += 1
                    elif body != expected[path]:
                        wrong[0] += 1
                    latencies.append(elapsed)
                    completed[0] += 1
                    if completed[0] % max(1, args.requests // 10) == 0:
                        done_marks.append((completed[0], rss_kb(server.pid)))
            conn.close()

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        server_cpu_before = cpu_seconds(server.pid)
        client_cpu_before = time.process_time()
        start = time.monotonic()
        workers = [threading.Thread(target=client) for _ in range(args.clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall = time.monotonic() - start
        server_cpu = cpu_seconds(server.pid) - server_cpu_before
        client_cpu = time.process_time() - client_cpu_before
        stop_sampling.set()
        sampler.join()
        peak = rss_kb(server.pid, "VmHWM")

        served_audio = sum(durations[paths[i % len(paths)]] for i in range(args.requests))
        server.send_signal(signal.SIGTERM)
        try:
            exit_status = server.wait(timeout=600)
        except subprocess.TimeoutExpired:
            server.kill()
            exit_status = "killed after 600 s"
        stderr.close()

        report = {
            "cpu": cpu_name(), "cores": os.cpu_count(), "model": args.model, "threads": args.threads,
            "chunks_per_batch": args.chunks_per_batch, "clients": args.clients, "requests": args.requests,
            "files": len(paths), "audio_seconds_per_request": round(served_audio / args.requests, 3),
            "wall_s": round(wall, 3), "requests_per_s": round(args.requests / wall, 3),
            "audio_seconds_per_s": round(served_audio / wall, 2),
            "latency_p50_s": round(percentile(latencies, 50), 4), "latency_p99_s": round(percentile(latencies, 99), 4),
            "latency_mean_s": round(statistics.mean(latencies), 4) if latencies else None,
            "peak_rss_mb": round(peak / 1024, 1) if peak else None,
            "rss_mb_by_tenth": [(n, round(kb / 1024, 1) if kb else None) for n, kb in done_marks],
            "manifest_audio_seconds_per_s": round(manifest_rate, 2),
            "manifest_audio_seconds_per_s_with_startup": round(audio_total / manifest_seconds, 2),
            "manifest_startup_s": round(startup_seconds, 3),
            "ratio_to_manifest": round((served_audio / wall) / manifest_rate, 3),
            "server_cpu_s": round(server_cpu, 2), "client_cpu_s": round(client_cpu, 2),
            "lost": lost[0], "wrong": wrong[0], "server_exit": exit_status,
        }
        if args.json:
            print(json.dumps(report))
        print(f"CPU: {report['cpu']} ({report['cores']} cores); model {args.model}; --threads {args.threads}, "
              f"--chunks-per-batch {args.chunks_per_batch}", file=sys.stderr)
        print(f"{args.requests} requests of {report['audio_seconds_per_request']} s audio from {args.clients} clients "
              f"in {wall:.2f} s: {report['requests_per_s']} req/s, {report['audio_seconds_per_s']} audio-s/s "
              f"(voxenc embed --manifest: {report['manifest_audio_seconds_per_s']} audio-s/s without its "
              f"{report['manifest_startup_s']} s start-up, {report['manifest_audio_seconds_per_s_with_startup']} with it; "
              f"ratio {report['ratio_to_manifest']})", file=sys.stderr)
        print(f"latency p50 {report['latency_p50_s']} s, p99 {report['latency_p99_s']} s; peak RSS "
              f"{report['peak_rss_mb']} MB; RSS after each tenth: {[m for _, m in report['rss_mb_by_tenth']]}", file=sys.stderr)
        print(f"CPU seconds during the load: server {report['server_cpu_s']}, this client {report['client_cpu_s']} "
              f"(on the same cores)", file=sys.stderr)
        print(f"lost {lost[0]}, wrong {wrong[0]}; server exit {exit_status}", file=sys.stderr)
        sys.exit(0 if lost[0] == 0 and wrong[0] == 0 and exit_status == 0 else 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
