#!/usr/bin/env python3
"""voxenc on a Voxtral-Realtime-shaped checkpoint, beside run_pytorch.py: whole files through `voxenc embed`, and live
streams through `voxenc serve`'s WebSocket (/v1/realtime), fed at real-time pace by N clients at once.

For each precision:
  whole file   `voxenc embed --verbose` on SECONDS of speech-like audio (best of --repeats): the seconds of the
               encoder + adapter and of the whole process, the real-time factor (RTF = seconds / audio seconds).
  live         one server, N = 1, 2, … concurrent WebSocket clients; each appends --chunk-ms (80) of PCM16 as often, in wall
               time (real-time pace) and timestamps every embedding.delta. A row's latency is its arrival minus the
               moment its audio was complete (the token's last sample plus 40 samples: when its 8 mel frames can
               exist); the right pad's rows after the audio carry no audio and are not counted. Held in real time:
               p99 latency ≤ 480 ms + 250 ms and the last audio row within 1 s of the end (embedding.done, after
               the right pad's rows, is reported too).
               RSS of the server per stream: (RSS with N streams open − RSS before) / N.

    python3 Benchmarks/realtime/run_voxenc.py --model DIR --threads 2 --seconds 30 --streams 1,2,3 \
        --json Benchmarks/results/realtime-voxenc-2threads.json
Needs `pip install websockets numpy soundfile`; the CLI at .build/release/voxenc (or --voxenc).
"""
import argparse, asyncio, base64, json, os, re, socket, subprocess, sys, tempfile, time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Weights", "tools"))
from signals import speech_like  # noqa: E402

TOKEN = 1280          # samples per 80 ms token
LEFT_PAD_ROWS = 32    # the silent left pad's adapter rows (no audio to wait for)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def whole_file(voxenc, model, wav, precision, threads, repeats):
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run([voxenc, "embed", wav, "--model", model, "--precision", precision, "--threads", str(threads),
                              "--verbose", "-o", os.path.join(tempfile.gettempdir(), "rt-bench.npy"), "--force"],
                             capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        m = re.search(r"encoder ([0-9.]+) s, adapter ([0-9.]+) s, total ([0-9.]+) s", out.stderr)
        result = {"encoder_s": float(m.group(1)), "adapter_s": float(m.group(2)), "embed_total_s": float(m.group(3)),
                  "process_wall_s": wall}
        if best is None or result["embed_total_s"] < best["embed_total_s"]:
            best = result
    return best


def one_stream(voxenc, model, pcm, precision, threads):
    """`voxenc stream --verbose` on the raw PCM as fast as it goes, default step: encoder + adapter seconds / audio."""
    out = subprocess.run([voxenc, "stream", "--model", model, "--precision", precision, "--threads", str(threads),
                          "--input-format", "s16le", "--format", "f32", "--verbose"],
                         input=pcm, capture_output=True, check=True)
    m = re.search(rb"encoder ([0-9.]+) s, adapter ([0-9.]+) s, RTF ([0-9.]+)", out.stderr)
    return {"encoder_s": float(m.group(1)), "adapter_s": float(m.group(2)), "rtf": float(m.group(3))}


async def client(port, pcm, start_at, out, chunk_ms):
    import websockets
    arrivals, latencies, first = [], [], None
    audio_tokens = (len(pcm) // 2 + TOKEN - 1) // TOKEN
    # No keepalive pings: a stream that falls behind is measured (its latency grows), not cut off.
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime", max_size=None, ping_interval=None) as ws:
        json.loads(await ws.recv())  # session.created
        t0 = start_at

        async def receive():
            while True:
                event = json.loads(await ws.recv())
                now = time.perf_counter()
                if event["type"] == "embedding.delta":
                    for row in range(event["index"], event["index"] + event["rows"]):
                        token = row - LEFT_PAD_ROWS
                        if token < 0 or token >= audio_tokens:  # the pads: no audio to wait for
                            continue
                        out["last_audio_row_after_end_s"] = now - (t0 + len(pcm) / 2 / 16000)
                        complete = min((token + 1) * TOKEN + 40, len(pcm) // 2) / 16000  # audio seconds
                        latencies.append(now - (t0 + complete))
                elif event["type"] == "embedding.done":
                    out["done_after_end_s"] = now - (t0 + len(pcm) / 2 / 16000)
                    return
                elif event["type"] == "error":
                    raise RuntimeError(event)

        receiver = asyncio.create_task(receive())
        chunk = 2 * 16 * chunk_ms  # bytes of PCM16 per append: what the microphone gave since the last one
        for i, offset in enumerate(range(0, len(pcm), chunk)):
            due = t0 + (offset + chunk) / 2 / 16000  # this piece has fully "arrived" from the microphone
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(json.dumps({"type": "input_audio_buffer.append",
                                      "audio": base64.b64encode(pcm[offset:offset + chunk]).decode()}))
        await ws.send(json.dumps({"type": "input_audio_buffer.commit", "final": True}))
        await receiver
    out["latencies"] = latencies


def live_runs(port):
    """The server's live-encoder counters (/metrics): runs, streams served summed over runs, shared runs."""
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    value = lambda name: float(re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M).group(1))
    return {"runs": value("voxenc_live_encoder_runs_total"), "run_streams": value("voxenc_live_encoder_run_streams_total"),
            "shared_runs": value("voxenc_live_shared_encoder_runs_total")}


async def live(port, pcm, streams, server_pid, chunk_ms=80):
    runs_before = live_runs(port)
    before = rss_kb(server_pid)
    outs = [dict() for _ in range(streams)]
    start_at = time.perf_counter() + 0.5
    peak = [before]

    async def watch():
        while True:
            peak[0] = max(peak[0], rss_kb(server_pid))
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch())
    dropped = [r for r in await asyncio.gather(*(client(port, pcm, start_at, o, chunk_ms) for o in outs),
                                               return_exceptions=True) if r is not None]
    watcher.cancel()
    if dropped:  # a server too far behind drops a client it cannot ping: not held, and said so
        return {"streams": streams, "chunk_ms": chunk_ms, "dropped": [repr(e) for e in dropped], "held_real_time": False}
    lat = np.concatenate([np.array(o["latencies"]) for o in outs]) * 1000
    runs_after = live_runs(port)
    runs = {k: runs_after[k] - runs_before[k] for k in runs_after}
    return {"streams": streams, "chunk_ms": chunk_ms, "encoder_runs": runs["runs"],
            "streams_per_run": runs["run_streams"] / max(1, runs["runs"]), "shared_runs": runs["shared_runs"], "latency_ms_p50": float(np.percentile(lat, 50)),
            "latency_ms_p99": float(np.percentile(lat, 99)), "latency_ms_max": float(lat.max()),
            "last_audio_row_after_end_s": max(o["last_audio_row_after_end_s"] for o in outs),
            "done_after_end_s": max(o["done_after_end_s"] for o in outs),
            "rss_per_stream_mb": (peak[0] - before) / 1024 / streams,
            "held_real_time": bool(np.percentile(lat, 99) <= 730
                                   and max(o["last_audio_row_after_end_s"] for o in outs) <= 1.0)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--voxenc", default=os.path.join(REPO, ".build", "release", "voxenc"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--streams", default="1,2,3")
    ap.add_argument("--precisions", default="f32,bf16")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--chunk-ms", type=int, default=80,
                    help="audio per append in the live runs (a row needs 40 samples past its token, which come with "
                         "the next append: up to one chunk of the latency is the client's)")
    ap.add_argument("--live-only", action="store_true", help="skip the whole-file and one-stream runs")
    ap.add_argument("--json")
    args = ap.parse_args()

    import soundfile
    samples = speech_like(int(args.seconds * 16000), 100)
    wav = os.path.join(tempfile.gettempdir(), "rt-bench-input.wav")
    soundfile.write(wav, samples, 16000, subtype="PCM_16")
    pcm = (np.clip(samples, -1, 1 - 2 ** -15) * 32768).astype("<i2").tobytes()
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = re.search(r"Model name:\s*(.*)", cpu).group(1).strip()
    results = {"machine": {"cpu": model_name, "threads": args.threads,
                           "info": subprocess.run([args.voxenc, "info"], capture_output=True, text=True).stdout},
               "seconds": args.seconds, "precisions": {}}
    for precision in args.precisions.split(","):
        row = {}
        if not args.live_only:
            row["whole_file"] = whole_file(args.voxenc, args.model, wav, precision, args.threads, args.repeats)
            row["whole_file"]["rtf"] = row["whole_file"]["embed_total_s"] / args.seconds
            print(f"{precision} whole file: {row['whole_file']}", flush=True)
            row["one_stream"] = one_stream(args.voxenc, args.model, pcm, precision, args.threads)
            print(f"{precision} one stream, as fast as it goes: {row['one_stream']}", flush=True)
        counts = [int(n) for n in args.streams.split(",")]
        port = free_port()
        log = os.path.join(tempfile.gettempdir(), f"rt-bench-serve-{precision}.log")
        with open(log, "w") as stderr:  # a file, never a pipe nobody drains
            server = subprocess.Popen([args.voxenc, "serve", "--model", args.model, "--port", str(port), "--precision",
                                       precision, "--threads", str(args.threads), "--max-live-streams", str(max(counts))],
                                      stderr=stderr)
        while "listening on" not in open(log).read():
            if server.poll() is not None:
                raise RuntimeError(open(log).read())
            time.sleep(0.2)
        row["live"] = []
        for n in counts:
            time.sleep(2)  # the last run's connections finish closing before the next run opens its own
            result = asyncio.run(live(port, pcm, n, server.pid, args.chunk_ms))
            print(f"{precision} live: {result}", flush=True)
            row["live"].append(result)
        server.terminate()
        server.wait()
        results["precisions"][precision] = row
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
