#!/usr/bin/env python3
"""Builds the repositories the loopback hub (hub_server.py) serves for `voxenc pull`'s tests, from the committed
fixtures, with the standard library only:

  ROOT/mistralai/Voxtral-Tiny   Voxtral sharded like mistralai/Voxtral-Mini-3B-2507: the Hugging Face layout in three
                                shards (audio tensors interleaved with a large random language model, so that the
                                audio bytes are not one contiguous run) + its index and configs, AND the Mistral
                                layout beside it (params.json, consolidated.safetensors with its own large language
                                model), a tokenizer and a README: the audio part is a few % of the repository;
  ROOT/test/voxtral-mistral     the Mistral layout alone;
  ROOT/test/whisper-tiny        Hugging Face Whisper, one model.safetensors (encoder + decoder);
  ROOT/test/realtime-tiny       Voxtral Realtime, Hugging Face layout; ROOT/test/realtime-mistral, its Mistral layout;
  ROOT/test/ct2-tiny            a CTranslate2 directory (model.bin, fetched whole);
  ROOT/test/gated, test/private the Whisper repository behind access control (ROOT/test/*.hub.json);
  ROOT/test/not-a-model         a README and a text file.

The random bytes come from a seeded generator: the same ROOT every time. --lm-bytes sets each layout's language-model
size (default 12 MB).
"""
import argparse
import json
import os
import random
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Fixtures")


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {"format": "pt"})
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        a, b = entry["data_offsets"]
        tensors[name] = (entry["dtype"], entry["shape"], data[base + a:base + b])
    return meta, tensors


def write(path, tensors, meta=None):
    """tensors: list of (name, dtype, shape, bytes), stored in this order."""
    header, offset = {}, 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    header["__metadata__"] = meta or {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for _, _, _, data in tensors:
            f.write(data)
    return offset + 8 + len(text)


def random_tensors(prefix, total, rng, count=6):
    """`count` BF16 tensors of about total/count bytes each."""
    width = 512
    rows = max(1, total // count // (2 * width))
    return [(f"{prefix}{i}.weight", "BF16", [rows, width], rng.randbytes(rows * width * 2)) for i in range(count)]


def voxtral_tiny(root, lm_bytes, rng):
    source = os.path.join(FIXTURES, "encoder", "voxtral-tiny-hf")
    target = os.path.join(root, "mistralai", "Voxtral-Tiny")
    os.makedirs(target)
    tensors = {}
    for shard in ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"):
        tensors.update(read(os.path.join(source, shard))[1])
    entry = lambda name: (name,) + tensors[name]
    audio = sorted(n for n in tensors if n.startswith("audio_tower."))
    layer0 = [n for n in audio if n.startswith("audio_tower.layers.0.")]
    rest = [n for n in audio if n not in layer0]
    lm = random_tensors("language_model.model.layers.", lm_bytes, rng, count=9)
    small_lm = [entry(n) for n in sorted(tensors) if n.startswith("language_model.")]
    shards = [
        [lm[0]] + [entry(n) for n in layer0] + [lm[1]] + [entry(n) for n in rest if "layers.1." in n],
        [entry(n) for n in rest if "layers.1." not in n] + [lm[2]]
        + [entry(n) for n in sorted(tensors) if n.startswith("multi_modal_projector.")] + small_lm + [lm[3]],
        lm[4:],
    ]
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        total += sum(len(t[3]) for t in shard)
        write(os.path.join(target, name), shard)
        weight_map.update({t[0]: name for t in shard})
    with open(os.path.join(target, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    for name in ("config.json", "preprocessor_config.json"):
        shutil.copy(os.path.join(source, name), target)
    with open(os.path.join(target, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 11}, f)
    # The Mistral layout beside it, as in the real repository.
    mistral(target, lm_bytes, rng)
    with open(os.path.join(target, "tekken.json"), "w") as f:
        json.dump({"vocab": [rng.randbytes(12).hex() for _ in range(20000)]}, f)
    with open(os.path.join(target, "README.md"), "w") as f:
        f.write("---\nlicense: apache-2.0\n---\n# Voxtral-Tiny\nA random checkpoint shaped like Voxtral Mini, for tests.\n")


def mistral(target, lm_bytes, rng):
    source = os.path.join(FIXTURES, "encoder", "voxtral-tiny-mistral")
    meta, tensors = read(os.path.join(source, "consolidated.safetensors"))
    audio = sorted(n for n in tensors if n.startswith("mm_whisper_embeddings."))
    other = sorted(n for n in tensors if n not in audio)
    lm = random_tensors("layers.1", lm_bytes, rng, count=5)
    half = len(audio) // 2
    ordered = [lm[0]] + [(n,) + tensors[n] for n in audio[:half]] + [lm[1]] + [(n,) + tensors[n] for n in audio[half:]] \
        + [(n,) + tensors[n] for n in other] + lm[2:]
    os.makedirs(target, exist_ok=True)
    write(os.path.join(target, "consolidated.safetensors"), ordered, meta)
    shutil.copy(os.path.join(source, "params.json"), target)


def copy(source, target):
    shutil.copytree(source, target)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root")
    parser.add_argument("--lm-bytes", type=int, default=12_000_000)
    options = parser.parse_args()
    if os.path.exists(options.root):
        shutil.rmtree(options.root)
    rng = random.Random(25)
    voxtral_tiny(options.root, options.lm_bytes, rng)
    mistral(os.path.join(options.root, "test", "voxtral-mistral"), options.lm_bytes, rng)
    copy(os.path.join(FIXTURES, "encoder", "whisper-tiny-hf"), os.path.join(options.root, "test", "whisper-tiny"))
    copy(os.path.join(FIXTURES, "realtime", "realtime-tiny-hf"), os.path.join(options.root, "test", "realtime-tiny"))
    copy(os.path.join(FIXTURES, "realtime", "realtime-tiny-mistral"), os.path.join(options.root, "test", "realtime-mistral"))
    copy(os.path.join(FIXTURES, "ctranslate2", "random-int8_float16"), os.path.join(options.root, "test", "ct2-tiny"))
    for name, settings in (("gated", {"gated": True, "accepted": ["accepted-token"]}), ("private", {"private": True})):
        copy(os.path.join(FIXTURES, "encoder", "whisper-tiny-hf"), os.path.join(options.root, "test", name))
        with open(os.path.join(options.root, "test", name + ".hub.json"), "w") as f:
            json.dump(settings, f)
    os.makedirs(os.path.join(options.root, "test", "not-a-model"))
    with open(os.path.join(options.root, "test", "not-a-model", "README.md"), "w") as f:
        f.write("# not a model\n")
    with open(os.path.join(options.root, "test", "not-a-model", "notes.txt"), "w") as f:
        f.write("nothing to see\n")


if __name__ == "__main__":
    main()
