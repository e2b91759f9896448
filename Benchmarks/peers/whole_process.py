"""The performance issue's check, side by side in one run: voxenc's WHOLE process (`voxenc embed`: load the weights,
decode, resample, mel, encoder, adapter, write) on a random Voxtral-Mini-shaped Hugging Face checkpoint on disk
(bf16, sharded, like the real one; make_random_voxtral.py) and real speech, against PyTorch float32's compute alone (transformers'
get_audio_features on the reference mel, model already in memory, sdpa attention), at the same thread count.
Also checks that the two outputs agree (relative L2 ≤ 1e-3).

    swift build -c release && python3 Benchmarks/peers/whole_process.py --threads 2 --minutes 4 \
        [--work /tmp/voxenc-mini] [--json Benchmarks/results/whole-process-2threads.json]
        [--precision f32|bf16] [--voxenc-env OPENBLAS_CORETYPE=Prescott] [--voxenc-arg --gemm --voxenc-arg openblas]

With --precision bf16 both sides run bf16: `voxenc embed --precision bf16` against PyTorch with the model in bf16
(`.to(torch.bfloat16)`, sdpa); both outputs are compared with PyTorch float32's (≤ 1 % relative L2 for voxenc).
--voxenc-env reproduces another CPU's library behaviour in voxenc's process only (e.g. OpenBLAS's Prescott fallback).

The checkpoint (≈ 1.3 GB) is made once under --work and reused. Needs torch (CPU), transformers, soundfile, soxr.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import soundfile
import soxr
import torch
from transformers import VoxtralForConditionalGeneration, WhisperFeatureExtractor

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Weights", "tools"))
import make_encoder_fixtures as fx  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_random_voxtral  # noqa: E402

VOXENC = os.path.join(REPO, ".build", "release", "voxenc")
SPEECH = os.path.join(REPO, "Tests", "Fixtures", "audio", "speech-44k-stereo-37s.flac")
MELS = 128
BOUND = {"f32": 1e-3, "bf16": 1e-2}  # the issues' bounds against PyTorch float32


def make_audio(path, minutes):
    """Real speech (the committed espeak-ng sample, 44.1 kHz stereo) repeated to `minutes`, as a FLAC."""
    x, rate = soundfile.read(SPEECH, dtype="float32", always_2d=True)
    reps = int(np.ceil(minutes * 60 * rate / x.shape[0]))
    y = np.concatenate([x] * reps)[: int(minutes * 60 * rate)]
    soundfile.write(path, y, rate, subtype="PCM_16")
    return path


def reference_mel(path):
    """The reference front end: soundfile → channel mean → soxr HQ → WhisperFeatureExtractor, in 30 s chunks."""
    x, rate = soundfile.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1, dtype=np.float32)
    samples = soxr.resample(x, rate, 16000, quality="HQ").astype(np.float32)
    return fx.mel_chunks(WhisperFeatureExtractor(feature_size=MELS), samples)


def relative_l2(a, b):
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b.astype(np.float64)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=4.0, help="speech length (30 s per chunk)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--work", default="/tmp/voxenc-voxtral-mini")
    ap.add_argument("--json")
    ap.add_argument("--prepare-only", action="store_true", help="write the checkpoint and the audio, then stop")
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--voxenc-env", action="append", default=[], help="NAME=VALUE for voxenc's process only")
    ap.add_argument("--voxenc-arg", action="append", default=[], help="an extra argument for voxenc embed")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)

    checkpoint = os.path.join(args.work, f"voxtral-mini-random-seed{args.seed}")
    if not os.path.exists(os.path.join(checkpoint, "model.safetensors.index.json")):
        print(f"writing the checkpoint to {checkpoint} …", flush=True)
        make_random_voxtral.make(checkpoint, args.seed)
    audio = make_audio(os.path.join(args.work, f"speech-{args.minutes:g}min-44k-stereo.flac"), args.minutes)
    if args.prepare_only:
        return
    mel = reference_mel(audio)
    chunks = mel.shape[0]

    # voxenc: the whole process, wall clock, caches warm (the checkpoint was just written or read).
    out = os.path.join(args.work, "voxenc.npy")
    command = [VOXENC, "embed", audio, "--model", checkpoint, "-o", out, "--force", "--threads", str(args.threads),
               "--precision", args.precision, "--verbose"] + args.voxenc_arg
    environment = dict(os.environ, **dict(item.split("=", 1) for item in args.voxenc_env))
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, env=environment)
    voxenc_seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"voxenc failed: {run.stderr}")
    ours = np.load(out)

    # PyTorch: compute alone (get_audio_features on the reference mel), sdpa attention, the same checkpoint upcast
    # to float32 and already in memory.
    model = VoxtralForConditionalGeneration.from_pretrained(checkpoint, dtype=torch.float32, attn_implementation="sdpa")
    model.eval()
    with torch.no_grad():
        if args.precision == "bf16":
            # The float32 reference first (not timed), then the bf16 peer timed.
            expected = model.get_audio_features(mel, return_dict=True).pooler_output.numpy()
            model = model.to(torch.bfloat16)
            mel_in = torch.as_tensor(mel).to(torch.bfloat16)
        else:
            mel_in = mel
        model.get_audio_features(mel_in[:1], return_dict=True)  # warm-up
        start = time.perf_counter()
        peer = model.get_audio_features(mel_in, return_dict=True).pooler_output.float().numpy()
        torch_seconds = time.perf_counter() - start
        if args.precision == "f32":
            expected = peer

    error = relative_l2(ours, expected)
    torch_error = relative_l2(peer, expected)
    bound = BOUND[args.precision]
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
        "machine": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": args.threads,
        "chunks": chunks, "audio_seconds": args.minutes * 60,
        "voxenc_whole_process_s": voxenc_seconds, "voxenc_s_per_chunk": voxenc_seconds / chunks,
        "torch_compute_s": torch_seconds, "torch_s_per_chunk": torch_seconds / chunks,
        "torch_over_voxenc": torch_seconds / voxenc_seconds,
        "precision": args.precision, "relative_l2": error, "torch_relative_l2": torch_error,
        "voxenc_env": args.voxenc_env, "voxenc_args": args.voxenc_arg,
        "cpu": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?"),
        "voxenc_stderr": run.stderr.strip().splitlines(),
        "torch": torch.__version__,
    }
    print(f"{chunks} chunks of real speech, {args.threads} threads:")
    print(f"  voxenc embed, whole process (load, decode, mel, encoder, adapter, write): {voxenc_seconds:.1f} s "
          f"= {voxenc_seconds / chunks:.2f} s per chunk")
    print(f"  PyTorch {torch.__version__} {args.precision} sdpa, get_audio_features alone: {torch_seconds:.1f} s "
          f"= {torch_seconds / chunks:.2f} s per chunk  → PyTorch / voxenc = {torch_seconds / voxenc_seconds:.3f}")
    print(f"  outputs: shape {ours.shape} vs {expected.shape}, relative L2 to PyTorch float32: voxenc {error:.2e} "
          f"(bound {bound:g}), PyTorch {args.precision} {torch_error:.2e}")
    for line in result["voxenc_stderr"]:
        print("  " + line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    ok = ours.shape == expected.shape and error <= bound and voxenc_seconds <= torch_seconds
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
