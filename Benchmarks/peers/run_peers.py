"""voxenc against its float32 (and int8) peers, side by side in one run: see Benchmarks/peers/README.md."""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
VOXENC = os.path.join(REPO, ".build", "release", "voxenc")
D, LAYERS, HEADS, FFN, MELS, TEXT = 1280, 32, 20, 5120, 128, 3072


def voxenc_bench(threads, chunks):
    out = subprocess.run([VOXENC, "bench", "--preset", "voxtral-mini", "--threads", str(threads), "--chunks",
                          str(chunks), "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def torch_peer(threads, chunks, attention):
    import torch
    from transformers import VoxtralConfig, VoxtralForConditionalGeneration
    torch.set_num_threads(threads)
    cfg = VoxtralConfig(audio_config=dict(num_mel_bins=MELS, hidden_size=D, num_hidden_layers=LAYERS,
                                          num_attention_heads=HEADS, intermediate_size=FFN),
                        text_config=dict(hidden_size=TEXT, num_hidden_layers=1, vocab_size=32, intermediate_size=64,
                                         num_attention_heads=4, num_key_value_heads=2, head_dim=16))
    cfg._attn_implementation = attention
    cfg.audio_config._attn_implementation = attention
    model = VoxtralForConditionalGeneration(cfg).float().eval()
    mel = torch.randn(1, MELS, 3000)
    with torch.no_grad():
        model.get_audio_features(mel)  # warm-up
        start = time.perf_counter()
        for _ in range(chunks):
            model.get_audio_features(mel)
        seconds = (time.perf_counter() - start) / chunks
    del model
    return seconds


def ctranslate2_peer(threads, chunks, compute_type, model_dir):
    import ctranslate2
    import numpy as np
    model = ctranslate2.models.Whisper(model_dir, device="cpu", compute_type=compute_type, intra_threads=threads)
    features = ctranslate2.StorageView.from_array(np.random.default_rng(0).standard_normal((1, MELS, 3000)).astype(np.float32))
    model.encode(features)  # warm-up
    start = time.perf_counter()
    for _ in range(chunks):
        model.encode(features)
    return (time.perf_counter() - start) / chunks


def make_ctranslate2_model(work):
    """A random Whisper-large-v3-shaped model, converted by CTranslate2's own converter (float32 on disk)."""
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    cfg = WhisperConfig(num_mel_bins=MELS, d_model=D, encoder_layers=LAYERS, encoder_attention_heads=HEADS,
                        encoder_ffn_dim=FFN, decoder_layers=1, decoder_attention_heads=HEADS, decoder_ffn_dim=FFN,
                        vocab_size=51866)
    hf = os.path.join(work, "whisper-large-v3-random")
    WhisperForConditionalGeneration(cfg).save_pretrained(hf)
    out = os.path.join(work, "ct2")
    TransformersConverter(hf, load_as_float16=False).convert(out, quantization=None, force=True)
    shutil.rmtree(hf)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunks", type=int, default=2)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--skip", default="", help="comma-separated peers to skip: torch-eager,torch-sdpa,ct2-f32,ct2-int8")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    results = {}
    bench = voxenc_bench(args.threads, args.chunks)
    results["voxenc"] = bench["encoderSecondsPerChunk"] + bench["stageMilliseconds"]["adapter"] / 1000
    results["voxenc (whole pipeline per chunk)"] = bench["secondsPerChunk"]
    print(f"voxenc: {results['voxenc']:.2f} s per chunk (encoder + adapter), {bench['secondsPerChunk']:.2f} s with "
          f"decode/resample/mel; {bench['gflops']:.1f} GFLOP/s = {bench['ratioToSgemm']:.3f} of sgemm", flush=True)
    for attention in ("eager", "sdpa"):
        if f"torch-{attention}" not in skip:
            results[f"pytorch f32 {attention}"] = torch_peer(args.threads, args.chunks, attention)
            print(f"pytorch f32 {attention}: {results[f'pytorch f32 {attention}']:.2f} s per chunk", flush=True)
    work = tempfile.mkdtemp(prefix="voxenc-peers-")
    try:
        if not {"ct2-f32", "ct2-int8"} <= skip:
            model = make_ctranslate2_model(work)
            for compute, name in (("float32", "ct2-f32"), ("int8", "ct2-int8")):
                if name not in skip:
                    results[f"ctranslate2 {compute} (encoder only)"] = ctranslate2_peer(args.threads, args.chunks, compute, model)
                    print(f"ctranslate2 {compute}: {results[f'ctranslate2 {compute} (encoder only)']:.2f} s per chunk", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = results["voxenc"]
    print(f"\nseconds per 30 s chunk, {args.threads} thread(s); ratio = peer / voxenc (> 1: voxenc faster)")
    for name, seconds in results.items():
        print(f"  {name:40s} {seconds:7.2f} s   ×{seconds / base:5.2f}")
    if args.json:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        with open(args.json, "w") as f:
            json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "commit": commit,
                       "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
                       "threads": args.threads, "chunks": args.chunks, "seconds_per_chunk": results,
                       "voxenc_bench": bench}, f, indent=1)


if __name__ == "__main__":
    main()
