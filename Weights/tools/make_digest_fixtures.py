#!/usr/bin/env python3
"""Independent digests of the committed model fixtures, for the tests that check voxenc's `ModelDescription.digest`
and the sidecar's `model.digest_sha256` (Tests/Fixtures/encoder/digests.json).

The recipe (v1) is the one documented at the top of Sources/VoxEncModel/Formats/WeightReader.swift, computed here from
the files alone with the standard library (hashlib, json, struct): for each tensor the loader uses, in its fixed
role order, feed "<DTYPE> <d0>,<d1>,…\\n" and SHA-256(stored bytes) into one SHA-256. The Mistral layout is left
out: its positional table is computed by voxenc (glibc sinf/cosf), which differs from torch's stored table in the
last bit of a few thousand entries, so no file holds the bytes it hashes.

Also writes the digest of the CTranslate2 copy of the HF Whisper fixture that CTranslate2WhisperTests builds (fused
q/k/v weight, a [3D] bias with D zeros for k, no conversion of values).

    python3 Weights/tools/make_digest_fixtures.py          # from the repository root
"""
import hashlib
import json
import os
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENCODER = os.path.join(REPO, "Tests", "Fixtures", "encoder")


def read_safetensors(path):
    """{name: (dtype, shape, bytes)} from a safetensors file, by its documented layout."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        tensors[name] = (entry["dtype"], entry["shape"], data[base + start:base + end])
    return tensors


def digest(entries):
    combined = hashlib.sha256()
    for dtype, shape, raw in entries:
        combined.update(f"{dtype} {','.join(map(str, shape))}\n".encode())
        combined.update(hashlib.sha256(raw).digest())
    return combined.hexdigest()


LAYER = ["self_attn_layer_norm.weight", "self_attn_layer_norm.bias", "self_attn.q_proj.weight", "self_attn.q_proj.bias",
         "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.out_proj.weight",
         "self_attn.out_proj.bias", "final_layer_norm.weight", "final_layer_norm.bias", "fc1.weight", "fc1.bias",
         "fc2.weight", "fc2.bias"]
MISTRAL_LAYER = ["attention_norm.weight", "attention_norm.bias", "attention.wq.weight", "attention.wq.bias",
                 "attention.wk.weight", "attention.wv.weight", "attention.wv.bias", "attention.wo.weight",
                 "attention.wo.bias", "ffn_norm.weight", "ffn_norm.bias", "feed_forward.w1.weight",
                 "feed_forward.w1.bias", "feed_forward.w2.weight", "feed_forward.w2.bias"]


def hf_names(prefix, layers, adapter):
    names = [prefix + n for n in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "embed_positions.weight")]
    for i in range(layers):
        names += [f"{prefix}layers.{i}.{role}" for role in LAYER]
    names += [prefix + "layer_norm.weight", prefix + "layer_norm.bias"]
    return names + adapter


def main():
    out = {}
    shards = {}
    for f in ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"):
        shards.update(read_safetensors(os.path.join(ENCODER, "voxtral-tiny-hf", f)))
    names = hf_names("audio_tower.", 2, ["multi_modal_projector.linear_1.weight", "multi_modal_projector.linear_2.weight"])
    out["voxtral-tiny-hf"] = digest([shards[n] for n in names])

    whisper = read_safetensors(os.path.join(ENCODER, "whisper-tiny-hf", "model.safetensors"))
    out["whisper-tiny-hf"] = digest([whisper[n] for n in hf_names("model.encoder.", 2, [])])

    # The CTranslate2 copy (CTranslate2WhisperTests.ctranslate2Copy): conv, positions, per layer 12 variables
    # (q/k/v fused), final norm; all float32 as stored in the HF file.
    e = "model.encoder."
    entries = [whisper[e + n] for n in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                        "embed_positions.weight")]
    for i in range(2):
        h = f"{e}layers.{i}."
        a = h + "self_attn."
        d = whisper[a + "q_proj.weight"][1][0]
        entries += [whisper[h + "self_attn_layer_norm.weight"], whisper[h + "self_attn_layer_norm.bias"],
                    ("F32", [3 * d, d], whisper[a + "q_proj.weight"][2] + whisper[a + "k_proj.weight"][2]
                     + whisper[a + "v_proj.weight"][2]),
                    ("F32", [3 * d], whisper[a + "q_proj.bias"][2] + bytes(4 * d) + whisper[a + "v_proj.bias"][2]),
                    whisper[a + "out_proj.weight"], whisper[a + "out_proj.bias"],
                    whisper[h + "final_layer_norm.weight"], whisper[h + "final_layer_norm.bias"],
                    whisper[h + "fc1.weight"], whisper[h + "fc1.bias"], whisper[h + "fc2.weight"], whisper[h + "fc2.bias"]]
    entries += [whisper[e + "layer_norm.weight"], whisper[e + "layer_norm.bias"]]
    out["whisper-tiny-hf as ctranslate2"] = digest(entries)

    path = os.path.join(ENCODER, "digests.json")
    with open(path, "w") as f:
        json.dump({"recipe": "voxenc digest v1 (Sources/VoxEncModel/Formats/WeightReader.swift)",
                   "made_by": "Weights/tools/make_digest_fixtures.py", "digests": out}, f, indent=1, sort_keys=True)
        f.write("\n")
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
