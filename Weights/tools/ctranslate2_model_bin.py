"""A small, stdlib-only reader for CTranslate2 `model.bin` files (the format of faster-whisper model directories),
written from the format as ctranslate2's own `specs/model_spec.py` (`ModelSpec._serialize`) writes it:

    u32 binary version (6 for ctranslate2 ≥ 3); version ≥ 2: string spec name, u32 spec revision
    u32 variable count; per variable: string name, u8 rank, rank × u32 dims,
        version ≥ 4: u8 dtype id (0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16), u32 byte count
        version < 4: u8 item size (4 float32, 2 int16, 1 int8), u32 element count
        then the bytes (row-major, little-endian, unaligned)
    version ≥ 3: u32 alias count; per alias: string alias, string target
    string = u16 length including a trailing NUL, then the bytes

Used by make_ctranslate2_fixtures.py, ctranslate2_to_hf_whisper.py and check_real_weights.py; independent of the Swift
reader (Sources/VoxEncModel/Formats/CTranslate2Model.swift), so the fixtures check it rather than echo it.

    python3 Weights/tools/ctranslate2_model_bin.py Weights/models/whisper-tiny.en/model.bin   # header + voxenc digest
"""
import hashlib
import struct
import sys

DTYPES = {0: ("F32", 4), 1: ("I8", 1), 2: ("I16", 2), 3: ("I32", 4), 4: ("F16", 2), 5: ("BF16", 2)}
ITEM_SIZES = {4: "F32", 2: "I16", 1: "I8"}


class Variable:
    def __init__(self, name, dtype, shape, offset, nbytes):
        self.name, self.dtype, self.shape, self.offset, self.nbytes = name, dtype, shape, offset, nbytes

    @property
    def count(self):
        n = 1
        for d in self.shape:
            n *= d
        return n


class ModelBin:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        self.offset = 0
        self.version = self._u("I")
        if not 1 <= self.version <= 6:
            raise ValueError(f"{path}: unsupported binary version {self.version}")
        self.spec, self.revision = "", 1
        if self.version >= 2:
            self.spec = self._string()
            self.revision = self._u("I")
        self.variables = {}
        for _ in range(self._u("I")):
            name = self._string()
            rank = self._u("B")
            shape = [self._u("I") for _ in range(rank)]
            if self.version >= 4:
                dtype, size = DTYPES[self._u("B")]
                nbytes = self._u("I")
            else:
                item = self._u("B")
                dtype, nbytes = ITEM_SIZES[item], self._u("I") * item
            self.variables[name] = Variable(name, dtype, shape, self.offset, nbytes)
            self.offset += nbytes
            if self.offset > len(self.data):
                raise ValueError(f"{path}: truncated in {name}")
        self.aliases = {}
        if self.version >= 3:
            for _ in range(self._u("I")):
                alias, target = self._string(), self._string()
                target = target if target in self.variables else self.aliases.get(target)
                if target is not None and alias not in self.variables and alias not in self.aliases:
                    self.aliases[alias] = target

    def _u(self, fmt):
        (value,) = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return value

    def _string(self):
        length = self._u("H")
        raw = self.data[self.offset:self.offset + length]
        self.offset += length
        return raw.split(b"\0", 1)[0].decode("utf-8")

    def resolve(self, name):
        return name if name in self.variables else self.aliases.get(name)

    def variable(self, name):
        resolved = self.resolve(name)
        if resolved is None:
            raise KeyError(name)
        return self.variables[resolved]

    def raw(self, name):
        v = self.variable(name)
        return self.data[v.offset:v.offset + v.nbytes]

    def scale_name(self, name):
        return self.resolve(self.variable(name).name + "_scale") or self.resolve(name + "_scale")

    def integer(self, name, default=None):
        if self.resolve(name) is None:
            return default
        v = self.variable(name)
        fmt = {"I8": "<b", "I16": "<h", "I32": "<i"}[v.dtype]
        return struct.unpack(fmt, self.raw(name))[0]

    def numpy(self, name):
        """float32 array; float16/bfloat16 upcast exactly, int8/int16 as CTranslate2 dequantizes: q * (1 / scale)."""
        import numpy as np
        v = self.variable(name)
        raw = self.raw(name)
        if v.dtype == "F32":
            return np.frombuffer(raw, "<f4").reshape(v.shape).copy()
        if v.dtype == "F16":
            return np.frombuffer(raw, "<f2").astype(np.float32).reshape(v.shape)
        if v.dtype == "BF16":
            return (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32).reshape(v.shape)
        if v.dtype in ("I8", "I16"):
            q = np.frombuffer(raw, "<i1" if v.dtype == "I8" else "<i2").astype(np.float32)
            scale = self.numpy(self.scale_name(name)).reshape(-1)
            rows = q.reshape(scale.size, -1)
            return (rows * (np.float32(1) / scale)[:, None]).astype(np.float32).reshape(v.shape)
        raise ValueError(f"{name}: dtype {v.dtype}")


# The encoder variables voxenc reads, in its digest order
# (Sources/VoxEncModel/Families/Whisper/WhisperTensor.swift, names in WhisperTensorNames.swift).
LAYER_ROLES = ["self_attention/layer_norm/gamma", "self_attention/layer_norm/beta",
               "self_attention/linear_0/weight", "self_attention/linear_0/bias",
               "self_attention/linear_1/weight", "self_attention/linear_1/bias",
               "ffn/layer_norm/gamma", "ffn/layer_norm/beta",
               "ffn/linear_0/weight", "ffn/linear_0/bias", "ffn/linear_1/weight", "ffn/linear_1/bias"]


def encoder_layer_count(model):
    indices = set()
    for name in list(model.variables) + list(model.aliases):
        if name.startswith("encoder/layer_"):
            head = name[len("encoder/layer_"):].split("/", 1)[0]
            if head.isdigit():
                indices.add(int(head))
    return max(indices) + 1 if indices else 0


def encoder_names(model):
    names = ["encoder/conv1/weight", "encoder/conv1/bias", "encoder/conv2/weight", "encoder/conv2/bias",
             "encoder/position_encodings/encodings"]
    for i in range(encoder_layer_count(model)):
        names += [f"encoder/layer_{i}/{role}" for role in LAYER_ROLES]
    return names + ["encoder/layer_norm/gamma", "encoder/layer_norm/beta"]


def voxenc_digest(model):
    """ModelDescription.digest as documented in WeightReader.swift, computed from the file alone."""
    combined = hashlib.sha256()
    for name in encoder_names(model):
        v = model.variable(name)
        combined.update(f"{v.dtype} {','.join(map(str, v.shape))}\n".encode())
        h = hashlib.sha256(model.raw(name))
        if v.dtype in ("I8", "I16"):
            h.update(model.raw(model.scale_name(name)))
        combined.update(h.digest())
    return combined.hexdigest()


def encoder_summary(model):
    conv1 = model.variable("encoder/conv1/weight").shape
    return {
        "mel_bins": conv1[1], "d_model": conv1[0], "layers": encoder_layer_count(model),
        "heads": model.integer("encoder/num_heads", 8),
        "ffn": model.variable("encoder/layer_0/ffn/linear_0/weight").shape[0],
        "positions": model.variable("encoder/position_encodings/encodings").shape[0],
        "parameter_count": sum(model.variable(n).count for n in encoder_names(model)
                               if n != "encoder/position_encodings/encodings"),
    }


if __name__ == "__main__":
    m = ModelBin(sys.argv[1])
    print(f"binary version {m.version}, spec {m.spec} revision {m.revision}, {len(m.variables)} variables, "
          f"aliases {m.aliases}")
    for name in sorted(m.variables):
        if name.startswith("encoder/") and not name.startswith("encoder/layer_") or name.startswith("encoder/layer_0/"):
            v = m.variables[name]
            print(f"  {name} {v.dtype} {v.shape}")
    print(encoder_summary(m))
    print("voxenc digest", voxenc_digest(m))
