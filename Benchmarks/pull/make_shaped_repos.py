#!/usr/bin/env python3
"""Repositories shaped like mistralai/Voxtral-Mini-3B-2507 and Voxtral-Small-24B-2507, for measuring `voxenc pull`
against the loopback hub (Tests/hub/hub_server.py) without the real weights: every tensor of both published layouts
with its real name, dtype (BF16) and shape — the Whisper-large-v3 audio encoder, the projector and the language model
(Voxtral Mini: Ministral-3B-shaped, 30 layers, width 3072; Small: Mistral-Small-24B-shaped, 40 layers, width 5120) —
the Hugging Face shards (≤ 5 GB each, audio first, as transformers' save_pretrained writes them) with their index, and
consolidated.safetensors beside them. The data areas are sparse files (zeros, no disk blocks), so a Voxtral-Small
repository costs no disk; the audio tensors hold small random values so that the pulled model computes something.
  python3 Benchmarks/pull/make_shaped_repos.py ROOT [--small]
"""
import json
import os
import random
import struct
import sys

AUDIO = dict(d=1280, layers=32, ffn=5120, mels=128, positions=1500)
MINI = dict(d=3072, layers=30, heads=32, kv=8, head_dim=128, ffn=8192, vocab=131072)
SMALL = dict(d=5120, layers=40, heads=32, kv=8, head_dim=128, ffn=32768, vocab=131072)


def audio_tensors(hf, text_width):
    a = AUDIO
    d, f = a["d"], a["ffn"]
    t = []
    enc = "audio_tower." if hf else "mm_whisper_embeddings.whisper_encoder."
    if hf:
        t += [(enc + "conv1.weight", [d, a["mels"], 3]), (enc + "conv1.bias", [d]),
              (enc + "conv2.weight", [d, d, 3]), (enc + "conv2.bias", [d]),
              (enc + "embed_positions.weight", [a["positions"], d])]
    else:
        t += [(enc + "conv_layers.0.weight", [d, a["mels"], 3]), (enc + "conv_layers.0.bias", [d]),
              (enc + "conv_layers.1.weight", [d, d, 3]), (enc + "conv_layers.1.bias", [d])]
    for i in range(a["layers"]):
        if hf:
            p = f"{enc}layers.{i}."
            names = [("self_attn_layer_norm.weight", [d]), ("self_attn_layer_norm.bias", [d]),
                     ("self_attn.q_proj.weight", [d, d]), ("self_attn.q_proj.bias", [d]),
                     ("self_attn.k_proj.weight", [d, d]), ("self_attn.v_proj.weight", [d, d]),
                     ("self_attn.v_proj.bias", [d]), ("self_attn.out_proj.weight", [d, d]),
                     ("self_attn.out_proj.bias", [d]), ("final_layer_norm.weight", [d]), ("final_layer_norm.bias", [d]),
                     ("fc1.weight", [f, d]), ("fc1.bias", [f]), ("fc2.weight", [d, f]), ("fc2.bias", [d])]
        else:
            p = f"{enc}transformer.layers.{i}."
            names = [("attention_norm.weight", [d]), ("attention_norm.bias", [d]),
                     ("attention.wq.weight", [d, d]), ("attention.wq.bias", [d]), ("attention.wk.weight", [d, d]),
                     ("attention.wv.weight", [d, d]), ("attention.wv.bias", [d]), ("attention.wo.weight", [d, d]),
                     ("attention.wo.bias", [d]), ("ffn_norm.weight", [d]), ("ffn_norm.bias", [d]),
                     ("feed_forward.w1.weight", [f, d]), ("feed_forward.w1.bias", [f]),
                     ("feed_forward.w2.weight", [d, f]), ("feed_forward.w2.bias", [d])]
        t += [(p + n, s) for n, s in names]
    if hf:
        t += [(enc + "layer_norm.weight", [d]), (enc + "layer_norm.bias", [d]),
              ("multi_modal_projector.linear_1.weight", [text_width, 4 * d]),
              ("multi_modal_projector.linear_2.weight", [text_width, text_width])]
    else:
        t += [(enc + "transformer.norm.weight", [d]), (enc + "transformer.norm.bias", [d]),
              ("mm_whisper_embeddings.audio_language_projection.0.weight", [text_width, 4 * d]),
              ("mm_whisper_embeddings.audio_language_projection.2.weight", [text_width, text_width])]
    return t


def text_tensors(hf, m):
    d, q, kv, f = m["d"], m["heads"] * m["head_dim"], m["kv"] * m["head_dim"], m["ffn"]
    t = [("language_model.model.embed_tokens.weight" if hf else "tok_embeddings.weight", [m["vocab"], d])]
    for i in range(m["layers"]):
        if hf:
            p = f"language_model.model.layers.{i}."
            t += [(p + "input_layernorm.weight", [d]), (p + "self_attn.q_proj.weight", [q, d]),
                  (p + "self_attn.k_proj.weight", [kv, d]), (p + "self_attn.v_proj.weight", [kv, d]),
                  (p + "self_attn.o_proj.weight", [d, q]), (p + "post_attention_layernorm.weight", [d]),
                  (p + "mlp.gate_proj.weight", [f, d]), (p + "mlp.up_proj.weight", [f, d]),
                  (p + "mlp.down_proj.weight", [d, f])]
        else:
            p = f"layers.{i}."
            t += [(p + "attention_norm.weight", [d]), (p + "attention.wq.weight", [q, d]),
                  (p + "attention.wk.weight", [kv, d]), (p + "attention.wv.weight", [kv, d]),
                  (p + "attention.wo.weight", [d, q]), (p + "ffn_norm.weight", [d]),
                  (p + "feed_forward.w1.weight", [f, d]), (p + "feed_forward.w3.weight", [f, d]),
                  (p + "feed_forward.w2.weight", [d, f])]
    t += [("language_model.model.norm.weight" if hf else "norm.weight", [d]),
          ("language_model.lm_head.weight" if hf else "output.weight", [m["vocab"], d])]
    return t


def nbytes(shape):
    n = 2
    for s in shape:
        n *= s
    return n


def write(path, tensors, audio_prefixes, rng):
    header, offset = {}, 0
    for name, shape in tensors:
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + nbytes(shape)]}
        offset += nbytes(shape)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    base = 8 + len(text)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        f.truncate(base + offset)
        # Audio tensors: small bf16 values (LayerNorm weights 1), so that the pulled model computes finite numbers.
        for name, shape in tensors:
            if not name.startswith(audio_prefixes):
                continue
            f.seek(base + header[name]["data_offsets"][0])
            count = nbytes(shape) // 2
            if name.endswith("norm.weight") or "layer_norm.weight" in name:
                f.write(b"\x80\x3f" * count)   # 1.0
            else:
                block = bytes(rng.choice((0x3c, 0xbc)) if i % 2 else rng.randrange(256) for i in range(2 * min(count, 65536)))
                for start in range(0, count, 65536):
                    f.write(block[: 2 * min(65536, count - start)])
    return base + offset


def repository(root, name, text, rng):
    folder = os.path.join(root, "mistralai", name)
    os.makedirs(folder, exist_ok=True)
    hf_audio_prefixes = ("audio_tower.", "multi_modal_projector.")
    tensors = audio_tensors(True, text["d"]) + text_tensors(True, text)
    shards, current, size = [], [], 0
    for t in tensors:
        if current and size + nbytes(t[1]) > 5_000_000_000:
            shards.append(current)
            current, size = [], 0
        current.append(t)
        size += nbytes(t[1])
    shards.append(current)
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write(os.path.join(folder, file), shard, hf_audio_prefixes, rng)
        total += sum(nbytes(s) for _, s in shard)
        weight_map.update({n: file for n, _ in shard})
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
              open(os.path.join(folder, "model.safetensors.index.json"), "w"), indent=2)
    a = AUDIO
    json.dump({"architectures": ["VoxtralForConditionalGeneration"], "model_type": "voxtral",
               "audio_config": {"hidden_size": a["d"], "intermediate_size": a["ffn"], "num_hidden_layers": a["layers"],
                                "num_attention_heads": 20, "num_mel_bins": a["mels"], "max_source_positions": a["positions"],
                                "activation_function": "gelu", "model_type": "voxtral_encoder"},
               "text_config": {"hidden_size": text["d"], "model_type": "llama"}, "projector_hidden_act": "gelu"},
              open(os.path.join(folder, "config.json"), "w"), indent=2)
    json.dump({"feature_size": 128, "sampling_rate": 16000}, open(os.path.join(folder, "preprocessor_config.json"), "w"))
    write(os.path.join(folder, "consolidated.safetensors"), audio_tensors(False, text["d"]) + text_tensors(False, text),
          ("mm_whisper_embeddings.",), rng)
    json.dump({"dim": text["d"], "n_layers": text["layers"], "multimodal": {"whisper_model_args": {"encoder_args": {
        "dim": a["d"], "n_layers": a["layers"], "hidden_dim": a["ffn"], "n_heads": 20}}}},
        open(os.path.join(folder, "params.json"), "w"))
    with open(os.path.join(folder, "tekken.json"), "wb") as f:
        f.truncate(14_894_206)   # the real tokenizer file's size
    open(os.path.join(folder, "README.md"), "w").write(f"# {name} (shaped, not trained)\n")


def main():
    root = sys.argv[1]
    rng = random.Random(25)
    repository(root, "Voxtral-Mini-3B-2507", MINI, rng)
    if "--small" in sys.argv:
        repository(root, "Voxtral-Small-24B-2507", SMALL, rng)


if __name__ == "__main__":
    main()
