"""voxenc (float32, bf16 and int8) against its peers, side by side in one run: see Benchmarks/peers/README.md."""
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


def voxenc_bench(threads, chunks, precision="f32", batch=1):
    out = subprocess.run([VOXENC, "bench", "--preset", "voxtral-mini", "--threads", str(threads), "--chunks",
                          str(chunks), "--chunks-per-batch", str(batch), "--precision", precision, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def speech_file(work, chunks):
    """The committed real speech (espeak-ng, 37 s, 44.1 kHz stereo FLAC) repeated to exactly `chunks` × 30 s."""
    import numpy as np
    import soundfile
    x, rate = soundfile.read(os.path.join(REPO, "Tests", "Fixtures", "audio", "speech-44k-stereo-37s.flac"),
                             dtype="float32", always_2d=True)
    n = rate * 30 * chunks
    path = os.path.join(work, f"speech-{chunks}x30s.flac")
    soundfile.write(path, np.tile(x, (n // len(x) + 1, 1))[:n], rate, subtype="PCM_16")
    return path


def voxenc_embed(model_dir, audio, precision, threads, out, *extra):
    """The whole `voxenc embed` process (weights load, quantisation, decode, mel, encoder, adapter, write):
    wall seconds, the encoder + adapter seconds it reports (--verbose), and the output."""
    import numpy as np
    start = time.perf_counter()
    run = subprocess.run([VOXENC, "embed", audio, "--model", model_dir, "-o", out, "--force", "--threads", str(threads),
                          "--precision", precision, "--verbose", *extra], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    line = [l for l in run.stderr.splitlines() if "encoder " in l and "adapter " in l][-1]
    encode = float(line.split("encoder ")[1].split(" s")[0]) + float(line.split("adapter ")[1].split(" s")[0])
    return wall, encode, np.load(out)


def relative_l2(a, b):
    import numpy as np
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def torch_peer(threads, chunks, attention, batch=1, dtype="float32"):
    """Seconds per chunk of transformers' Voxtral audio tower + projector in float32 (or `dtype`, e.g. bfloat16:
    the model and its input cast with `.to`), `batch` chunks per call."""
    import torch
    from transformers import VoxtralConfig, VoxtralForConditionalGeneration
    torch.set_num_threads(threads)
    cfg = VoxtralConfig(audio_config=dict(num_mel_bins=MELS, hidden_size=D, num_hidden_layers=LAYERS,
                                          num_attention_heads=HEADS, intermediate_size=FFN),
                        text_config=dict(hidden_size=TEXT, num_hidden_layers=1, vocab_size=32, intermediate_size=64,
                                         num_attention_heads=4, num_key_value_heads=2, head_dim=16))
    cfg._attn_implementation = attention
    cfg.audio_config._attn_implementation = attention
    model = VoxtralForConditionalGeneration(cfg).to(getattr(torch, dtype)).eval()
    mel = torch.randn(batch, MELS, 3000).to(getattr(torch, dtype))
    calls = max(1, chunks // batch)
    with torch.no_grad():
        model.get_audio_features(mel)  # warm-up
        start = time.perf_counter()
        for _ in range(calls):
            model.get_audio_features(mel)
        seconds = (time.perf_counter() - start) / (calls * batch)
    del model
    return seconds


def ctranslate2_peer(threads, chunks, compute_type, model_dir, mel=None, batch=1):
    """Seconds per chunk of CTranslate2's encode alone (model loaded, one warm-up), `batch` chunks per call, and its
    output for `mel`."""
    import ctranslate2
    import numpy as np
    model = ctranslate2.models.Whisper(model_dir, device="cpu", compute_type=compute_type, intra_threads=threads)
    features = mel if mel is not None else np.random.default_rng(0).standard_normal((1, MELS, 3000)).astype(np.float32)
    view = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(features[:1], batch, axis=0)))
    calls = max(1, chunks // batch)
    model.encode(view)  # warm-up
    start = time.perf_counter()
    for _ in range(calls):
        output = model.encode(view)
    seconds = (time.perf_counter() - start) / (calls * batch)
    return seconds, np.array(output)


def make_ctranslate2_model(work, voxtral=None):
    """A Whisper-large-v3-shaped model converted by CTranslate2's own converter (float32 on disk): random, or with
    the encoder weights of the Voxtral checkpoint `voxtral` (its audio tower is a large-v3 encoder), so that
    CTranslate2 and voxenc run the very same weights."""
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import VoxtralForConditionalGeneration, WhisperConfig, WhisperForConditionalGeneration
    cfg = WhisperConfig(num_mel_bins=MELS, d_model=D, encoder_layers=LAYERS, encoder_attention_heads=HEADS,
                        encoder_ffn_dim=FFN, decoder_layers=1, decoder_attention_heads=HEADS, decoder_ffn_dim=FFN,
                        vocab_size=51866)
    hf = os.path.join(work, "whisper-large-v3-random")
    whisper = WhisperForConditionalGeneration(cfg)
    if voxtral:
        tower = VoxtralForConditionalGeneration.from_pretrained(voxtral, dtype=torch.float32).model.audio_tower
        whisper.model.encoder.load_state_dict(tower.state_dict(), strict=True)
        del tower
    whisper.save_pretrained(hf)
    del whisper
    out = os.path.join(work, "ct2")
    TransformersConverter(hf, load_as_float16=False).convert(out, quantization=None, force=True)
    shutil.rmtree(hf)
    return out


def mel_chunks(audio, chunks):
    """The reference front end (soundfile → channel mean → soxr HQ → WhisperFeatureExtractor) → [chunks, 128, 3000]."""
    import numpy as np
    import soundfile
    import soxr
    from transformers import WhisperFeatureExtractor
    x, rate = soundfile.read(audio, dtype="float32", always_2d=True)
    x = soxr.resample(x.mean(axis=1, dtype=np.float32), rate, 16000, quality="HQ").astype(np.float32)
    fe = WhisperFeatureExtractor(feature_size=MELS)
    mel = fe(x, sampling_rate=16000, return_tensors="np", padding=True, pad_to_multiple_of=480000,
             truncation=False).input_features
    return mel[0].reshape(MELS, -1, 3000).transpose(1, 0, 2)[:chunks]


def main():
    global VOXENC
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunks", type=int, default=2)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--skip", default="",
                    help="comma-separated peers to skip: torch-eager,torch-sdpa,torch-bf16,ct2-f32,ct2-int8,voxenc-bf16,"
                         "voxenc-int8,embed")
    ap.add_argument("--voxtral", help="a random Voxtral-Mini-shaped checkpoint (make_random_voxtral.py); made in a "
                                      "temporary directory when absent. Its weights also feed CTranslate2.")
    ap.add_argument("--embed-chunks", type=int, default=4, help="30 s chunks of real speech for the whole-process runs")
    ap.add_argument("--voxenc", default=VOXENC, help="the voxenc binary (default: .build/release/voxenc)")
    args = ap.parse_args()
    VOXENC = args.voxenc
    skip = set(filter(None, args.skip.split(",")))
    results, fidelity = {}, {}
    bench = voxenc_bench(args.threads, args.chunks)
    results["voxenc"] = bench["encoderSecondsPerChunk"] + bench["stageMilliseconds"]["adapter"] / 1000
    results["voxenc (whole pipeline per chunk)"] = bench["secondsPerChunk"]
    print(f"voxenc: {results['voxenc']:.2f} s per chunk (encoder + adapter), {bench['secondsPerChunk']:.2f} s with "
          f"decode/resample/mel; {bench['gflops']:.1f} GFLOP/s = {bench['ratioToSgemm']:.3f} of sgemm", flush=True)
    low = {}  # bench of each lower precision run
    for precision in ("bf16", "int8"):
        if f"voxenc-{precision}" not in skip:
            try:
                low[precision] = voxenc_bench(args.threads, args.chunks, precision)
            except subprocess.CalledProcessError as refused:  # exit 64: no native bf16 on this CPU (precision.md)
                print(f"voxenc {precision}: refused here (exit {refused.returncode}): {refused.stderr.strip()}")
                continue
            b = low[precision]
            results[f"voxenc {precision}"] = b["encoderSecondsPerChunk"] + b["stageMilliseconds"]["adapter"] / 1000
            print(f"voxenc {precision}: {results[f'voxenc {precision}']:.2f} s per chunk (encoder + adapter)", flush=True)
    for attention in ("eager", "sdpa"):
        if f"torch-{attention}" not in skip:
            results[f"pytorch f32 {attention}"] = torch_peer(args.threads, args.chunks, attention)
            print(f"pytorch f32 {attention}: {results[f'pytorch f32 {attention}']:.2f} s per chunk", flush=True)
    if "torch-bf16" not in skip:
        results["pytorch bf16 sdpa"] = torch_peer(args.threads, args.chunks, "sdpa", dtype="bfloat16")
        print(f"pytorch bf16 sdpa: {results['pytorch bf16 sdpa']:.2f} s per chunk", flush=True)
    work = tempfile.mkdtemp(prefix="voxenc-peers-")
    try:
        voxtral = None
        if "embed" not in skip or not {"ct2-f32", "ct2-int8"} <= skip:
            voxtral = args.voxtral
            if not voxtral or not os.path.isdir(voxtral):
                sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
                import make_random_voxtral
                voxtral = make_random_voxtral.make(args.voxtral or os.path.join(work, "voxtral-mini-random"))
        audio = speech_file(work, args.embed_chunks)
        one_chunk = speech_file(work, 1)
        if "embed" not in skip:
            # The whole process on real speech, float32 then each lower precision: wall time (load and quantisation
            # included) and the encoder + adapter time it reports, per chunk; each against float32 on the adapter and
            # encoder outputs.
            outputs, precisions = {}, ["f32"] + list(low)
            for precision in precisions:
                wall, encode, outputs[precision] = voxenc_embed(voxtral, audio, precision, args.threads,
                                                                os.path.join(work, f"out-{precision}.npy"))
                name = f"voxenc embed {precision} (whole process)"
                results[name] = wall / args.embed_chunks
                results[f"voxenc embed {precision} (encoder + adapter)"] = encode / args.embed_chunks
                print(f"{name}: {wall:.1f} s for {args.embed_chunks} chunks, encoder + adapter {encode:.1f} s", flush=True)
            states = {p: voxenc_embed(voxtral, one_chunk, p, args.threads, os.path.join(work, f"enc-{p}.npy"),
                                      "--encoder-only")[2] for p in precisions}
            for p in low:
                fidelity[f"voxenc {p} adapter vs f32"] = relative_l2(outputs[p], outputs["f32"])
                fidelity[f"voxenc {p} encoder vs f32"] = relative_l2(states[p], states["f32"])
                print(f"voxenc {p} vs f32, relative L2: adapter {fidelity[f'voxenc {p} adapter vs f32']:.4f}, "
                      f"encoder {fidelity[f'voxenc {p} encoder vs f32']:.4f}", flush=True)
        if not {"ct2-f32", "ct2-int8"} <= skip:
            model = make_ctranslate2_model(work, voxtral)
            mel = mel_chunks(one_chunk, 1)
            ct2_states = {}
            for compute, name in (("float32", "ct2-f32"), ("int8", "ct2-int8")):
                if name not in skip:
                    seconds, ct2_states[compute] = ctranslate2_peer(args.threads, args.chunks, compute, model, mel)
                    results[f"ctranslate2 {compute} (encoder only)"] = seconds
                    print(f"ctranslate2 {compute}: {seconds:.2f} s per chunk", flush=True)
            if len(ct2_states) == 2:
                fidelity["ctranslate2 int8 encoder vs f32"] = relative_l2(ct2_states["int8"], ct2_states["float32"])
                print(f"ctranslate2 int8 vs f32, relative L2: encoder {fidelity['ctranslate2 int8 encoder vs f32']:.4f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nseconds per 30 s chunk, {args.threads} thread(s); ratio = peer / voxenc (> 1: voxenc faster)")
    for base_name in ("voxenc", "voxenc bf16", "voxenc int8"):
        if base_name not in results:
            continue
        print(f" against {base_name}:")
        for name, seconds in results.items():
            print(f"  {name:45s} {seconds:7.2f} s   ×{seconds / results[base_name]:5.2f}")
    for name, value in fidelity.items():
        print(f"  {name:45s} relative L2 {value:.4f}")
    if args.json:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        with open(args.json, "w") as f:
            json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "commit": commit,
                       "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
                       "threads": args.threads, "chunks": args.chunks, "embed_chunks": args.embed_chunks,
                       "seconds_per_chunk": results, "relative_l2": fidelity,
                       "voxenc_bench": bench, "voxenc_bench_bf16": low.get("bf16"),
                       "voxenc_bench_int8": low.get("int8")}, f, indent=1)


if __name__ == "__main__":
    main()
