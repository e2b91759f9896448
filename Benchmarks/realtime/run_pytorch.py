"""transformers' Voxtral Realtime encoder + adapter on CPU, offline and streamed, float32 and bf16, in one process:
see Benchmarks/realtime/README.md.

    python3 Benchmarks/realtime/run_pytorch.py --model DIR --threads 2 --seconds 30 [--repeats 2] [--json OUT]
        [--skip f32-offline,f32-stream,bf16-offline,bf16-stream]
    python3 Benchmarks/realtime/run_pytorch.py --smoke        # 2 layers, 3 s, made in a temporary folder: < 1 minute

Input: Weights/tools/signals.py speech_like(seconds × 16000, seed 100), padded as mistral-common pads an offline
request (32 silent tokens = 40 960 zeros on the left; on the right zeros to a multiple of 1280 samples plus 17 tokens),
then VoxtralRealtimeFeatureExtractor (center=True) over the whole padded signal, once.
* offline: get_audio_features(input_features=mel) over the whole file, best of --repeats (the first is the warm-up);
* stream: transformers' streaming recipe on the same mel: frames [0, 312) (39 tokens: 32 pad + 6 delay + 1), then
  8-frame chunks (one 80 ms token each), passing cache (KV) and padding_cache (conv state) back, use_cache=True;
  each call timed on its own. The mel is sliced, not recomputed per chunk (the feature extractor is not timed there).
float32 runs first (from_pretrained(dtype=float32, attn_implementation="sdpa")), then the same model .to(bfloat16) with
the mel cast too (its RoPE inv_freq buffers put back in float32, as from_pretrained(dtype=bfloat16) keeps them).
Real-time factor (RTF) = seconds / audio seconds, against the unpadded audio and against the padded signal.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Weights", "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SR = 16000
TOKEN_SAMPLES = 1280  # 80 ms: int(16000 // 12.5)
LEFT_PAD_TOKENS = 32  # mistral-common streaming_n_left_pad_tokens
RIGHT_PAD_TOKENS = 6 + 1 + 10  # delay tokens (480 ms) + 1 + OFFLINE_STREAMING_BUFFER_TOKENS
FIRST_CHUNK_FRAMES = 312  # (32 + 6 + 1) tokens × 8 mel frames
CHUNK_FRAMES = 8
SEED = 100
RUNS = ("f32-offline", "f32-stream", "bf16-offline", "bf16-stream")


def offline_pad(audio):
    n = audio.shape[-1]
    right = (TOKEN_SAMPLES - n % TOKEN_SAMPLES) % TOKEN_SAMPLES + TOKEN_SAMPLES * RIGHT_PAD_TOKENS
    return np.pad(audio, (TOKEN_SAMPLES * LEFT_PAD_TOKENS, right)).astype(np.float32)


def rss_gb():
    """(peak RSS of the process so far, current RSS) in GB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    current = None
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1e6
    return round(peak, 3), current and round(current, 3)


def machine_facts(threads):
    import torch
    import transformers
    facts = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": threads,
             "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
             "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
             "mkldnn_available": torch.backends.mkldnn.is_available()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        facts["cpu"] = fields.get("Model name", facts["cpu"]).strip()
        flags = fields.get("Flags", "").split()
        facts["isa_flags"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "avx_vnni",
                                          "avx512_vnni", "amx_bf16", "amx_tile") if f in flags]
    except OSError:
        pass
    try:
        facts["mkldnn_bf16_supported"] = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        pass
    config = torch.__config__.show()
    for line in config.splitlines():
        if "oneDNN" in line or "MKL-DNN" in line:
            facts["onednn"] = line.strip(" -")
            break
    return facts


def load(model_dir):
    import torch
    from transformers import VoxtralRealtimeForConditionalGeneration
    model = VoxtralRealtimeForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32,
                                                                    attn_implementation="sdpa").eval()
    assert model.model.audio_tower.config._attn_implementation == "sdpa"
    return model


def to_bf16(model):
    """model.to(bfloat16), then every floating buffer (RoPE / time-embedding frequencies, never in the checkpoint)
    back in float32, which is what from_pretrained(dtype=bfloat16) gives."""
    import torch
    buffers = {name: buf.clone() for name, buf in model.named_buffers()}
    model.to(torch.bfloat16)
    for name, buf in buffers.items():
        module_name, _, attr = name.rpartition(".")
        setattr(model.get_submodule(module_name), attr, buf)
    return model


def offline(model, mel, repeats):
    """Wall seconds of each whole-file get_audio_features call, and the adapter output of the last."""
    import torch
    seconds = []
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            out = model.get_audio_features(input_features=mel)
            seconds.append(time.perf_counter() - start)
    return seconds, out.pooler_output[0].float()


def stream(model, mel):
    """transformers' streaming recipe; wall seconds of each call and the concatenated adapter output."""
    import torch
    frames = mel.shape[-1]
    assert frames >= FIRST_CHUNK_FRAMES and (frames - FIRST_CHUNK_FRAMES) % CHUNK_FRAMES == 0, frames
    bounds = [0, FIRST_CHUNK_FRAMES] + list(range(FIRST_CHUNK_FRAMES + CHUNK_FRAMES, frames + 1, CHUNK_FRAMES))
    cache = padding_cache = None
    seconds, adapter = [], []
    with torch.inference_mode():
        for s, e in zip(bounds[:-1], bounds[1:]):
            start = time.perf_counter()
            out = model.get_audio_features(input_features=mel[:, :, s:e], cache=cache, padding_cache=padding_cache,
                                           use_cache=True)
            seconds.append(time.perf_counter() - start)
            cache, padding_cache = out.cache, out.padding_cache
            adapter.append(out.pooler_output[0])
    return seconds, torch.cat(adapter).float()


def relative_max(a, b):
    return float((a - b).abs().max() / b.abs().max())


def relative_l2(a, b):
    return float(np.linalg.norm((a - b).double().numpy()) / np.linalg.norm(b.double().numpy()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a Voxtral Realtime checkpoint folder (make_random_realtime.py); made in a temporary "
                                    "folder with --layers layers when absent")
    ap.add_argument("--layers", type=int, default=32, help="layers of the temporary model when --model is absent")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=30.0, help="seconds of speech-like audio (before padding)")
    ap.add_argument("--repeats", type=int, default=2, help="whole-file calls per precision; the best is reported")
    ap.add_argument("--skip", default="", help="comma-separated runs to skip: " + ",".join(RUNS))
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--smoke", action="store_true", help="2 layers and 3 s (a temporary model unless --model)")
    args = ap.parse_args()
    if args.smoke:
        args.layers, args.seconds = 2, 3.0
    skip = set(filter(None, args.skip.split(",")))
    assert skip <= set(RUNS), skip - set(RUNS)

    import torch
    torch.set_num_threads(args.threads)
    import signals
    from transformers import VoxtralRealtimeFeatureExtractor

    work = None
    model_dir = args.model
    if not model_dir:
        import make_random_realtime
        work = tempfile.mkdtemp(prefix="voxenc-realtime-")
        model_dir = os.path.join(work, f"realtime-random-{args.layers}")
        start = time.perf_counter()
        make_random_realtime.make(model_dir, layers=args.layers, check=False)
        print(f"random {args.layers}-layer checkpoint made in {time.perf_counter() - start:.1f} s", flush=True)
    try:
        facts = machine_facts(args.threads)
        print(f"{facts['cpu']}, {facts.get('isa_flags')}; torch {facts['torch']} ({facts['torch_cpu_capability']}, "
              f"oneDNN bf16 {facts.get('mkldnn_bf16_supported')}), transformers {facts['transformers']}, "
              f"{torch.get_num_threads()} threads", flush=True)

        count = int(round(args.seconds * SR))
        audio = signals.speech_like(count, SEED)
        padded = offline_pad(audio)
        fe = VoxtralRealtimeFeatureExtractor.from_pretrained(model_dir)
        start = time.perf_counter()
        mel = fe(padded, sampling_rate=SR, center=True, return_tensors="pt").input_features
        mel_seconds = time.perf_counter() - start
        audio_s, padded_s = count / SR, len(padded) / SR
        frames = mel.shape[-1]
        chunks = 1 + (frames - FIRST_CHUNK_FRAMES) // CHUNK_FRAMES
        print(f"audio {audio_s:.2f} s ({count} samples), padded {padded_s:.2f} s ({len(padded)} samples): mel "
              f"{tuple(mel.shape)} in {mel_seconds * 1e3:.0f} ms, {frames // 2} encoder frames, {frames // 8} adapter "
              f"vectors; stream: 1 × {FIRST_CHUNK_FRAMES} + {chunks - 1} × {CHUNK_FRAMES} frames", flush=True)

        start = time.perf_counter()
        model = load(model_dir)
        load_seconds = time.perf_counter() - start
        layers = model.config.audio_config.num_hidden_layers
        print(f"loaded {model_dir} ({layers} layers, float32, sdpa) in {load_seconds:.1f} s; RSS {rss_gb()}", flush=True)

        results, outputs = {}, {}
        for precision in ("f32", "bf16"):
            if precision == "bf16":
                if {"bf16-offline", "bf16-stream"} <= skip:
                    break
                model = to_bf16(model)
                x = mel.to(torch.bfloat16)
            else:
                x = mel
            if f"{precision}-offline" not in skip:
                seconds, outputs[f"{precision}-offline"] = offline(model, x, args.repeats)
                best = min(seconds)
                results[f"{precision}-offline"] = r = {
                    "seconds": best, "all_seconds": seconds, "rtf_audio": best / audio_s, "rtf_padded": best / padded_s,
                    "peak_rss_gb": rss_gb()[0], "rss_gb": rss_gb()[1]}
                print(f"{precision} offline: best {best:.3f} s of {len(seconds)} ({', '.join(f'{s:.3f}' for s in seconds)})"
                      f", RTF {r['rtf_audio']:.3f} (padded {r['rtf_padded']:.3f}); peak RSS {r['peak_rss_gb']:.2f} GB",
                      flush=True)
            if f"{precision}-stream" not in skip:
                seconds, outputs[f"{precision}-stream"] = stream(model, x)
                total, steady = sum(seconds), np.array(seconds[1:]) * 1e3
                results[f"{precision}-stream"] = r = {
                    "seconds": total, "rtf_audio": total / audio_s, "rtf_padded": total / padded_s, "calls": len(seconds),
                    "first_chunk_ms": seconds[0] * 1e3,
                    "chunk_ms_p50": float(np.percentile(steady, 50)) if len(steady) else None,
                    "chunk_ms_p99": float(np.percentile(steady, 99)) if len(steady) else None,
                    "chunk_ms_max": float(steady.max()) if len(steady) else None,
                    "chunks_over_80ms": int((steady > 80).sum()),
                    "chunk_ms": [round(s * 1e3, 3) for s in seconds],
                    "peak_rss_gb": rss_gb()[0], "rss_gb": rss_gb()[1]}
                print(f"{precision} stream: {total:.3f} s in {len(seconds)} calls, RTF {r['rtf_audio']:.3f} (padded "
                      f"{r['rtf_padded']:.3f}); first chunk {r['first_chunk_ms']:.1f} ms, 8-frame chunks p50 "
                      f"{r['chunk_ms_p50']:.1f} ms, p99 {r['chunk_ms_p99']:.1f} ms, max {r['chunk_ms_max']:.1f} ms "
                      f"({r['chunks_over_80ms']} of {len(steady)} over 80 ms); peak RSS {r['peak_rss_gb']:.2f} GB",
                      flush=True)
        del model

        agreement = {}  # adapter outputs: relative max |diff| (to the reference's max |value|) and relative L2
        for a, b in (("f32-stream", "f32-offline"), ("bf16-offline", "f32-offline"), ("bf16-stream", "bf16-offline"),
                     ("bf16-stream", "f32-offline")):
            if a in outputs and b in outputs:
                assert outputs[a].shape == outputs[b].shape, (a, outputs[a].shape, b, outputs[b].shape)
                agreement[f"{a} vs {b}"] = {"relative_max": relative_max(outputs[a], outputs[b]),
                                            "relative_l2": relative_l2(outputs[a], outputs[b])}

        print(f"\nVoxtral Realtime encoder + adapter in PyTorch: {layers} layers, {audio_s:g} s of audio "
              f"({padded_s:.2f} s padded), {args.threads} thread(s); RTF = seconds / audio seconds")
        print(f"  {'run':14s} {'seconds':>9s} {'RTF':>7s} {'RTF pad':>8s} {'1st ms':>8s} {'p50 ms':>8s} {'p99 ms':>8s} "
              f"{'peak RSS':>9s}")
        for name, r in results.items():
            chunk = "".join(f" {r[k]:8.1f}" if r.get(k) is not None else f" {'':8s}"
                            for k in ("first_chunk_ms", "chunk_ms_p50", "chunk_ms_p99"))
            print(f"  {name:14s} {r['seconds']:9.3f} {r['rtf_audio']:7.3f} {r['rtf_padded']:8.3f}{chunk} "
                  f"{r['peak_rss_gb']:7.2f} GB")
        for name, d in agreement.items():
            print(f"  adapter {name:30s} relative max |diff| {d['relative_max']:.2e}, relative L2 {d['relative_l2']:.2e}")

        if args.json:
            commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True).stdout.strip()
            with open(args.json, "w") as f:
                json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "commit": commit,
                           "machine": facts, "threads": args.threads, "model": os.path.abspath(model_dir),
                           "layers": layers, "attn_implementation": "sdpa", "signal": f"speech_like(n, seed {SEED})",
                           "audio_seconds": audio_s, "padded_seconds": padded_s, "mel_frames": frames,
                           "mel_seconds": mel_seconds, "load_seconds": load_seconds, "repeats": args.repeats,
                           "stream_first_chunk_frames": FIRST_CHUNK_FRAMES, "stream_chunk_frames": CHUNK_FRAMES,
                           "results": results, "adapter_agreement": agreement}, f, indent=1)
            print(f"wrote {args.json}")
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
