"""Converts a CTranslate2 (faster-whisper) Whisper model directory into a Hugging Face Whisper directory:
config.json (WhisperConfig keys and dimensions) + model.safetensors under transformers' WhisperForConditionalGeneration
names (model.encoder.*, model.decoder.*; proj_out is tied to embed_tokens). Python standard library only (no torch,
no numpy): the float tensors are copied byte for byte, the fused q/k/v (encoder and decoder self-attention) and k/v
(cross-attention) are split by rows, and the k biases CTranslate2 stored as zeros are dropped (HF's k_proj has none).
Quantized (int8/int16) models are refused: convert from a float model.

    python3 Weights/tools/ctranslate2_to_hf_whisper.py Weights/models/whisper-base /tmp/whisper-base-hf

The mapping inverts ctranslate2's converters/transformers.py WhisperLoader (set_encoder / set_decoder /
set_attention with utils.fuse_linear; set_conv1d; set_position_encodings; set_layer_norm gamma/beta).
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctranslate2_model_bin as ct2bin  # noqa: E402

ITEM = {"F32": 4, "F16": 2, "BF16": 2}


def is_zero(data, dtype):
    """Every value ±0 (the sign bit aside)."""
    if ITEM[dtype] == 4:
        return all(x & 0x7FFFFFFF == 0 for x in struct.unpack(f"<{len(data) // 4}I", data))
    return all(x & 0x7FFF == 0 for x in struct.unpack(f"<{len(data) // 2}H", data))


class Writer:
    def __init__(self, model):
        self.model = model
        self.tensors = []  # (name, dtype, shape, bytes)

    def copy(self, hf_name, ct2_name):
        v = self.model.variable(ct2_name)
        if v.dtype not in ITEM:
            raise SystemExit(f"{ct2_name} is {v.dtype}: quantized models are not supported, convert a float model")
        self.tensors.append((hf_name, v.dtype, list(v.shape), self.model.raw(ct2_name)))

    def split(self, ct2_prefix, parts, bias_required):
        """Rows of the fused `<prefix>/weight` [k·D, D] (and `/bias` [k·D]) → parts [(hf_prefix, has_bias)]."""
        w = self.model.variable(ct2_prefix + "/weight")
        if w.dtype not in ITEM:
            raise SystemExit(f"{ct2_prefix}/weight is {w.dtype}: quantized models are not supported")
        rows, width = w.shape
        d = rows // len(parts)
        raw_w = self.model.raw(ct2_prefix + "/weight")
        raw_b = self.model.raw(ct2_prefix + "/bias") if self.model.resolve(ct2_prefix + "/bias") else None
        bias_dtype = self.model.variable(ct2_prefix + "/bias").dtype if raw_b is not None else None
        for index, (hf_prefix, has_bias) in enumerate(parts):
            row_bytes = width * ITEM[w.dtype]
            self.tensors.append((hf_prefix + ".weight", w.dtype, [d, width],
                                 raw_w[index * d * row_bytes:(index + 1) * d * row_bytes]))
            if raw_b is None:
                if bias_required and has_bias:
                    raise SystemExit(f"{ct2_prefix}/bias is missing")
                continue
            part = raw_b[index * d * ITEM[bias_dtype]:(index + 1) * d * ITEM[bias_dtype]]
            if has_bias:
                self.tensors.append((hf_prefix + ".bias", bias_dtype, [d], part))
            elif not is_zero(part, bias_dtype):
                raise SystemExit(f"{ct2_prefix}/bias: the k bias is not zero; HF Whisper's k_proj has no bias")

    def layer_norm(self, hf_prefix, ct2_prefix):
        self.copy(hf_prefix + ".weight", ct2_prefix + "/gamma")
        self.copy(hf_prefix + ".bias", ct2_prefix + "/beta")

    def linear(self, hf_prefix, ct2_prefix):
        self.copy(hf_prefix + ".weight", ct2_prefix + "/weight")
        self.copy(hf_prefix + ".bias", ct2_prefix + "/bias")

    def write(self, path):
        header, offset = {}, 0
        for name, dtype, shape, data in self.tensors:
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
            offset += len(data)
        header["__metadata__"] = {"format": "pt"}
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for _, _, _, data in self.tensors:
                f.write(data)


def layer_count(model, prefix):
    indices = {int(n[len(prefix):].split("/", 1)[0]) for n in list(model.variables) + list(model.aliases)
               if n.startswith(prefix) and n[len(prefix):].split("/", 1)[0].isdigit()}
    return max(indices) + 1 if indices else 0


def convert(source, target):
    model = ct2bin.ModelBin(os.path.join(source, "model.bin"))
    if model.spec != "WhisperSpec":
        raise SystemExit(f"{source}/model.bin is a {model.spec!r}, not a WhisperSpec")
    w = Writer(model)
    e, d = "model.encoder", "model.decoder"
    w.copy(f"{e}.conv1.weight", "encoder/conv1/weight")
    w.copy(f"{e}.conv1.bias", "encoder/conv1/bias")
    w.copy(f"{e}.conv2.weight", "encoder/conv2/weight")
    w.copy(f"{e}.conv2.bias", "encoder/conv2/bias")
    w.copy(f"{e}.embed_positions.weight", "encoder/position_encodings/encodings")
    encoder_layers = layer_count(model, "encoder/layer_")
    for i in range(encoder_layers):
        c, h = f"encoder/layer_{i}", f"{e}.layers.{i}"
        w.layer_norm(f"{h}.self_attn_layer_norm", f"{c}/self_attention/layer_norm")
        w.split(f"{c}/self_attention/linear_0",
                [(f"{h}.self_attn.q_proj", True), (f"{h}.self_attn.k_proj", False), (f"{h}.self_attn.v_proj", True)], True)
        w.linear(f"{h}.self_attn.out_proj", f"{c}/self_attention/linear_1")
        w.layer_norm(f"{h}.final_layer_norm", f"{c}/ffn/layer_norm")
        w.linear(f"{h}.fc1", f"{c}/ffn/linear_0")
        w.linear(f"{h}.fc2", f"{c}/ffn/linear_1")
    w.layer_norm(f"{e}.layer_norm", "encoder/layer_norm")

    w.copy(f"{d}.embed_tokens.weight", "decoder/embeddings/weight")
    w.copy(f"{d}.embed_positions.weight", "decoder/position_encodings/encodings")
    decoder_layers = layer_count(model, "decoder/layer_")
    for i in range(decoder_layers):
        c, h = f"decoder/layer_{i}", f"{d}.layers.{i}"
        w.layer_norm(f"{h}.self_attn_layer_norm", f"{c}/self_attention/layer_norm")
        w.split(f"{c}/self_attention/linear_0",
                [(f"{h}.self_attn.q_proj", True), (f"{h}.self_attn.k_proj", False), (f"{h}.self_attn.v_proj", True)], True)
        w.linear(f"{h}.self_attn.out_proj", f"{c}/self_attention/linear_1")
        w.layer_norm(f"{h}.encoder_attn_layer_norm", f"{c}/attention/layer_norm")
        w.linear(f"{h}.encoder_attn.q_proj", f"{c}/attention/linear_0")
        w.split(f"{c}/attention/linear_1", [(f"{h}.encoder_attn.k_proj", False), (f"{h}.encoder_attn.v_proj", True)], True)
        w.linear(f"{h}.encoder_attn.out_proj", f"{c}/attention/linear_2")
        w.layer_norm(f"{h}.final_layer_norm", f"{c}/ffn/layer_norm")
        w.linear(f"{h}.fc1", f"{c}/ffn/linear_0")
        w.linear(f"{h}.fc2", f"{c}/ffn/linear_1")
    w.layer_norm(f"{d}.layer_norm", "decoder/layer_norm")

    conv1 = model.variable("encoder/conv1/weight").shape
    embeddings = model.variable("decoder/embeddings/weight").shape
    vocabulary = []
    if os.path.exists(os.path.join(source, "vocabulary.txt")):
        with open(os.path.join(source, "vocabulary.txt"), encoding="utf-8") as f:
            vocabulary = f.read().split("\n")

    def token(text, default):
        return vocabulary.index(text) if text in vocabulary else default

    ct2_config = {}
    if os.path.exists(os.path.join(source, "config.json")):
        with open(os.path.join(source, "config.json")) as f:
            ct2_config = json.load(f)
    eot = token("<|endoftext|>", 50256)
    dtype = model.variable("encoder/conv1/weight").dtype
    config = {
        "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper",
        "activation_function": "gelu", "scale_embedding": False, "tie_word_embeddings": True,
        "num_mel_bins": conv1[1], "d_model": conv1[0],
        "encoder_layers": encoder_layers, "encoder_attention_heads": model.integer("encoder/num_heads", 8),
        "encoder_ffn_dim": model.variable("encoder/layer_0/ffn/linear_0/weight").shape[0],
        "max_source_positions": model.variable("encoder/position_encodings/encodings").shape[0],
        "decoder_layers": decoder_layers, "decoder_attention_heads": model.integer("decoder/num_heads", 8),
        "decoder_ffn_dim": model.variable("decoder/layer_0/ffn/linear_0/weight").shape[0],
        "max_target_positions": model.variable("decoder/position_encodings/encodings").shape[0],
        "vocab_size": embeddings[0],
        "bos_token_id": eot, "eos_token_id": eot, "pad_token_id": eot,
        "decoder_start_token_id": token("<|startoftranscript|>", 50258),
        "suppress_tokens": ct2_config.get("suppress_ids", []),
        "begin_suppress_tokens": ct2_config.get("suppress_ids_begin", []),
        "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype],
    }
    os.makedirs(target, exist_ok=True)
    w.write(os.path.join(target, "model.safetensors"))
    with open(os.path.join(target, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    return config


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    summary = convert(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[2]}: HF Whisper, d_model {summary['d_model']}, {summary['encoder_layers']}+"
          f"{summary['decoder_layers']} layers, {summary['torch_dtype']}")
