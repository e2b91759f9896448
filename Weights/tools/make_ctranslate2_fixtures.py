"""Reference fixtures for the CTranslate2 (faster-whisper) Whisper layout, made by CTranslate2 itself.

For each installed real model (Weights/models/whisper-tiny.en, whisper-base: `python3 Weights/tools/install_models.py
--all`) and each committed speech file (Tests/Fixtures/audio/speech-16k.wav, ≤ 30 s, one chunk; and
speech-44k-stereo-37s.flac, 44.1 kHz stereo, two chunks), runs
    ctranslate2.models.Whisper(model_dir, device="cpu", compute_type="float32").encode(features)
on the log-mel the Voxtral way (soundfile float32 → mean over channels → soxr HQ to 16 kHz → WhisperFeatureExtractor
(feature_size=80) with padding=True, pad_to_multiple_of=480000, truncation=False → [N, 80, 3000] chunks) and stores,
under Tests/Fixtures/ctranslate2/:
    <model>.safetensors   "<audio>.frames" F32 [N, 100, D]: every 15th encoder frame (0, 15, …, 1485) of every chunk
    ctranslate2.json      per model: the model.bin size and sha256, the encoder shape, voxenc's digest of it (the recipe
                          of WeightReader.swift, computed here from the file), and per audio: chunk count, frame
                          stride, float64 sum of squares of each whole chunk [1500, D], and CTranslate2's transcript
                          (model.generate on its own encoder output: greedy, beam 1, float32) per chunk.

It also writes small random Whisper models with CTranslate2's own spec, quantizer and serializer (WhisperSpec,
`optimize(quantization=…)`, `save`) in the stored types the real models lack — random-int8_float16/, random-int16/,
random-bfloat16/ (model.bin + config.json; 80 mels, d_model 16, 1 head, 2 layers, ffn 64; two layers share a norm and
a weight so that CTranslate2 writes aliases, one of them quantized) — and CTranslate2's encoder output for
speech-16k.wav on each (every 5th frame, random.safetensors "<variant>.frames" [1, 300, 16]).

    pip install ctranslate2 transformers soundfile soxr numpy tokenizers torch   # torch only for bfloat16
    python3 Weights/tools/make_ctranslate2_fixtures.py
"""
import hashlib
import json
import os
import struct
import sys

import shutil

import ctranslate2
import numpy as np
import soundfile
import soxr
import tokenizers
import transformers
from transformers import WhisperFeatureExtractor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctranslate2_model_bin as ct2bin  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODELS = ["whisper-tiny.en", "whisper-base"]
AUDIO = ["speech-16k.wav", "speech-44k-stereo-37s.flac"]
OUT = os.path.join(REPO, "Tests", "Fixtures", "ctranslate2")
FRAME_STRIDE = 15
RANDOM_VARIANTS = ["int8_float16", "int16", "bfloat16"]
RANDOM_FRAME_STRIDE = 5


def reference_samples(path):
    """What voxenc does: float32 decode, channel mean in float32, soxr HQ to 16 kHz."""
    x, rate = soundfile.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1, dtype=np.float32) if x.shape[1] > 1 else x[:, 0]
    return soxr.resample(x, rate, 16000, quality="HQ").astype(np.float32) if rate != 16000 else x


def mel_chunks(samples):
    fe = WhisperFeatureExtractor(feature_size=80)
    feats = fe(samples, sampling_rate=16000, padding=True, truncation=False, pad_to_multiple_of=480000,
               return_tensors="np")["input_features"]
    return np.ascontiguousarray(feats.reshape(80, -1, 3000).transpose(1, 0, 2), dtype=np.float32)


def prompt(model):
    if model.is_multilingual:
        return ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
    return ["<|startoftranscript|>", "<|notimestamps|>"]


def transcribe(model, tokenizer, encoder_output):
    """Greedy CTranslate2 decoding of each chunk from an encoder output [N, 1500, D] (float32)."""
    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(encoder_output, dtype=np.float32))
    results = model.generate(features, [prompt(model)] * encoder_output.shape[0], beam_size=1)
    return [tokenizer.decode(r.sequences_ids[0]).strip() for r in results]


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def sinusoids(length, channels):
    increment = np.log(10000) / (channels // 2 - 1)
    inverse = np.exp(-increment * np.arange(channels // 2)).astype(np.float32)
    t = np.arange(length, dtype=np.float32)[:, None] * inverse[None, :]
    return np.concatenate([np.sin(t), np.cos(t)], axis=1).astype(np.float32)


def random_whisper_spec(seed=5, mels=80, width=16, heads=1, layers=2, ffn=64, vocabulary=8):
    """A random WhisperSpec with O(1) activations; the tiny decoder exists only because CTranslate2 needs one."""
    from ctranslate2.specs import whisper_spec
    rng = np.random.default_rng(seed)

    def linear(spec, outputs, inputs, bias=True):
        spec.weight = (rng.standard_normal((outputs, inputs)) / np.sqrt(inputs)).astype(np.float32)
        if bias:
            spec.bias = (0.1 * rng.standard_normal(outputs)).astype(np.float32)

    def norm(spec, width):
        spec.gamma = (1 + 0.1 * rng.standard_normal(width)).astype(np.float32)
        spec.beta = (0.1 * rng.standard_normal(width)).astype(np.float32)

    spec = whisper_spec.WhisperSpec(layers, heads, 1, heads)
    e = spec.encoder
    e.conv1.weight = (rng.standard_normal((width, mels, 3)) / np.sqrt(3 * mels)).astype(np.float32)
    e.conv1.bias = (0.1 * rng.standard_normal(width)).astype(np.float32)
    e.conv2.weight = (rng.standard_normal((width, width, 3)) / np.sqrt(3 * width)).astype(np.float32)
    e.conv2.bias = (0.1 * rng.standard_normal(width)).astype(np.float32)
    e.position_encodings.encodings = sinusoids(1500, width)
    for layer in e.layer:
        norm(layer.self_attention.layer_norm, width)
        linear(layer.self_attention.linear[0], 3 * width, width)
        layer.self_attention.linear[0].bias[width:2 * width] = 0  # no k bias, as fuse_linear stores it
        linear(layer.self_attention.linear[1], width, width)
        norm(layer.ffn.layer_norm, width)
        linear(layer.ffn.linear_0, ffn, width)
        linear(layer.ffn.linear_1, width, ffn)
    # Equal values are stored once (model_spec.py `_alias_variables`): layer 1 aliases layer 0 here.
    e.layer[1].ffn.layer_norm.gamma = e.layer[0].ffn.layer_norm.gamma.copy()
    e.layer[1].ffn.linear_1.weight = e.layer[0].ffn.linear_1.weight.copy()
    norm(e.layer_norm, width)
    d = spec.decoder
    d.embeddings.weight = rng.standard_normal((vocabulary, width)).astype(np.float32)
    d.position_encodings.encodings = sinusoids(16, width)
    for layer in d.layer:
        norm(layer.self_attention.layer_norm, width)
        linear(layer.self_attention.linear[0], 3 * width, width)
        linear(layer.self_attention.linear[1], width, width)
        norm(layer.attention.layer_norm, width)
        linear(layer.attention.linear[0], width, width)
        linear(layer.attention.linear[1], 2 * width, width)
        linear(layer.attention.linear[2], width, width)
        norm(layer.ffn.layer_norm, width)
        linear(layer.ffn.linear_0, ffn, width)
        linear(layer.ffn.linear_1, width, ffn)
    norm(d.layer_norm, width)
    linear(d.projection, vocabulary, width, bias=False)
    spec.register_vocabulary(["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>",
                              "<|notimestamps|>", "a", "b", "c"][:vocabulary])
    return spec


def random_models(mel, index):
    """The random variants, saved by CTranslate2, and CTranslate2's float32 encoder output for `mel`."""
    tensors, entries = {}, {}
    for variant in RANDOM_VARIANTS:
        spec = random_whisper_spec()
        spec.validate()
        spec.optimize(quantization=variant)
        directory = os.path.join(OUT, f"random-{variant}")
        shutil.rmtree(directory, ignore_errors=True)
        staging = directory + ".staging"
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        spec.save(staging)
        with open(os.path.join(staging, "vocabulary.json")) as f:  # CTranslate2 reads vocabulary.txt or .json
            tokens = json.load(f)
        with open(os.path.join(staging, "vocabulary.txt"), "w") as f:
            f.write("\n".join(tokens) + "\n")
        model = ctranslate2.models.Whisper(staging, device="cpu", compute_type="float32")
        output = np.asarray(model.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True), dtype=np.float32)
        del model
        os.makedirs(directory)
        for name in ("model.bin", "config.json"):  # all voxenc reads; the vocabulary stays out of the fixture
            shutil.move(os.path.join(staging, name), os.path.join(directory, name))
        shutil.rmtree(staging)
        parsed = ct2bin.ModelBin(os.path.join(directory, "model.bin"))
        tensors[f"{variant}.frames"] = output[:, ::RANDOM_FRAME_STRIDE, :]
        entries[variant] = {
            "encoder": ct2bin.encoder_summary(parsed), "voxenc_digest": ct2bin.voxenc_digest(parsed),
            "aliases": {k: v for k, v in sorted(parsed.aliases.items()) if k.startswith("encoder/")},
            "dtypes": sorted({parsed.variable(n).dtype for n in ct2bin.encoder_names(parsed)}),
            "sum_of_squares": [float(np.sum(c.astype(np.float64) ** 2)) for c in output],
        }
        print(f"random-{variant}: {os.path.getsize(os.path.join(directory, 'model.bin'))} bytes, "
              f"{entries[variant]['dtypes']}, aliases {entries[variant]['aliases']}")
    write_safetensors(os.path.join(OUT, "random.safetensors"), tensors)
    index["random"] = {"audio": "speech-16k.wav", "frame_stride": RANDOM_FRAME_STRIDE, "variants": entries}


def main():
    os.makedirs(OUT, exist_ok=True)
    index = {"ctranslate2": ctranslate2.__version__, "transformers": transformers.__version__,
             "soxr": soxr.__version__, "numpy": np.__version__, "compute_type": "float32",
             "frame_stride": FRAME_STRIDE, "models": {}}
    mels = {audio: mel_chunks(reference_samples(os.path.join(REPO, "Tests", "Fixtures", "audio", audio)))
            for audio in AUDIO}
    random_models(mels["speech-16k.wav"], index)
    for name in MODELS:
        directory = os.path.join(REPO, "Weights", "models", name)
        model_bin = os.path.join(directory, "model.bin")
        parsed = ct2bin.ModelBin(model_bin)
        entry = {"model_bin_bytes": os.path.getsize(model_bin),
                 "model_bin_sha256": hashlib.sha256(parsed.data).hexdigest(),
                 "spec": parsed.spec, "spec_revision": parsed.revision, "binary_version": parsed.version,
                 "encoder": ct2bin.encoder_summary(parsed), "voxenc_digest": ct2bin.voxenc_digest(parsed),
                 "stored_dtype": parsed.variable("encoder/conv1/weight").dtype.lower(), "audio": {}}
        del parsed
        model = ctranslate2.models.Whisper(directory, device="cpu", compute_type="float32")
        tokenizer = tokenizers.Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        tensors = {}
        for audio in AUDIO:
            mel = mels[audio]
            output = np.asarray(model.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True), dtype=np.float32)
            assert output.shape == (mel.shape[0], 1500, entry["encoder"]["d_model"]), output.shape
            key = os.path.splitext(audio)[0].replace("-", "_")
            tensors[f"{key}.frames"] = output[:, ::FRAME_STRIDE, :]
            entry["audio"][audio] = {
                "key": key, "chunks": int(mel.shape[0]),
                "sum_of_squares": [float(np.sum(c.astype(np.float64) ** 2)) for c in output],
                "transcript": transcribe(model, tokenizer, output),
            }
            print(f"{name} {audio}: {output.shape} → {entry['audio'][audio]['transcript']}")
        write_safetensors(os.path.join(OUT, f"{name}.safetensors"), tensors)
        index["models"][name] = entry
    with open(os.path.join(OUT, "ctranslate2.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(OUT) for f in files)
    print(f"{OUT}: {total} bytes")


if __name__ == "__main__":
    main()
