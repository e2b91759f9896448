#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (Tests/Fuzz/Corpus/<target>/) from the committed fixtures: small valid files
plus a few broken ones, and the minimised crashers the fuzzers found (regression-*, read by the regression tests).
Needs numpy and soundfile (libsndfile); run from anywhere. Existing files are kept (Ogg serial numbers and float WAV
PEAK chunks differ from run to run) unless --force."""

import io, json, os, struct, sys
import numpy as np
import soundfile as sf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
CORPUS = os.path.join(HERE, "Corpus")


FORCE = "--force" in sys.argv[1:]


def out(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    if os.path.exists(os.path.join(directory, name)) and not FORCE:
        return
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


# --- safetensors --------------------------------------------------------------------------------------------------

def safetensors(tensors, metadata=None, header_override=None):
    """tensors: [(name, dtype, shape, bytes)] laid out in order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = header_override if header_override is not None else json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def read_safetensors(path):
    blob = open(path, "rb").read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", None)
    return meta, [(k, v["dtype"], v["shape"], blob[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]])
                  for k, v in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])]


def make_safetensors():
    f32 = np.array([[1, -2, 3.5], [0, -0.25, 1e-30]], "<f4").tobytes()
    f16 = np.array([0.5, -65504, 6.1e-05, np.inf], "<f2").tobytes()
    bf16 = (np.array([1.5, -3.0, np.nan, 0], "<f4").view("<u4") >> 16).astype("<u2").tobytes()
    out("safetensors", "mixed-dtypes.safetensors", safetensors(
        [("a.weight", "F32", [2, 3], f32), ("b.bias", "F16", [4], f16), ("c.gamma", "BF16", [2, 2], bf16),
         ("d.ids", "I8", [3], b"\x01\xff\x7f"), ("e.empty", "F32", [0, 5], b""), ("f.scalar", "F32", [], f32[:4])],
        metadata={"format": "pt"}))
    out("safetensors", "empty-header.safetensors", safetensors([], header_override=b"{}"))
    out("safetensors", "metadata-only.safetensors", safetensors([], metadata={"format": "pt", "note": "\u00e9"}))
    # Real headers, the smallest tensors only (names and dtypes as the converters write them).
    for source, name in [("ctranslate2/random.safetensors", "ctranslate2-subset.safetensors"),
                         ("encoder/voxtral-tiny-hf/model-00001-of-00002.safetensors", "voxtral-hf-subset.safetensors"),
                         ("encoder/whisper-tiny-hf/model.safetensors", "whisper-hf-subset.safetensors")]:
        meta, tensors = read_safetensors(os.path.join(FIXTURES, source))
        small = sorted(tensors, key=lambda t: (len(t[3]), t[0]))[:6]
        size = {"F32": 4, "F16": 2, "BF16": 2}
        cut = [(n, d, [min(x, 4) for x in shape], b[:size[d] * int(np.prod([min(x, 4) for x in shape]))])
               for n, d, shape, b in small]  # real names and dtypes, at most 4 along each axis
        out("safetensors", name, safetensors(cut, metadata=meta))
    # Broken: each a different validation error.
    good = safetensors([("a", "F32", [2], f32[:8])])
    out("safetensors", "broken-truncated.safetensors", good[:-3])
    out("safetensors", "broken-length-past-end.safetensors", struct.pack("<Q", 1 << 20) + good[8:])
    out("safetensors", "broken-overlap.safetensors", safetensors([], header_override=json.dumps(
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}).encode()) + bytes(12))
    out("safetensors", "broken-float-shape.safetensors", safetensors([], header_override=json.dumps(
        {"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}).encode()) + bytes(4))
    out("safetensors", "broken-dtype.safetensors", safetensors([], header_override=json.dumps(
        {"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 1]}}).encode()) + bytes(1))


# --- CTranslate2 model.bin ----------------------------------------------------------------------------------------

DTYPES = {0: 4, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2}  # id -> item size


def ct2_string(text):
    raw = text.encode()
    return struct.pack("<H", len(raw) + 1) + raw + b"\0"


def ct2(variables, aliases=(), version=6, spec="WhisperSpec", revision=3):
    """variables: [(name, dtype id, shape, bytes)]."""
    blob = struct.pack("<I", version)
    if version >= 2:
        blob += ct2_string(spec) + struct.pack("<I", revision)
    blob += struct.pack("<I", len(variables))
    for name, dtype, shape, payload in sorted(variables):
        blob += ct2_string(name) + bytes([len(shape)]) + b"".join(struct.pack("<I", d) for d in shape)
        if version >= 4:
            blob += bytes([dtype]) + struct.pack("<I", len(payload))
        else:
            blob += bytes([DTYPES[dtype]]) + struct.pack("<I", len(payload) // DTYPES[dtype])
        blob += payload
    if version >= 3:
        blob += struct.pack("<I", len(aliases))
        for alias, target in aliases:
            blob += ct2_string(alias) + ct2_string(target)
    return blob


def read_ct2(path):
    blob = open(path, "rb").read()
    pos = 0

    def u(fmt):
        nonlocal pos
        value = struct.unpack_from(fmt, blob, pos)
        pos += struct.calcsize(fmt)
        return value[0]

    def s():
        nonlocal pos
        n = u("<H")
        text = blob[pos:pos + n - 1].decode()
        pos += n
        return text

    version = u("<I")
    assert version == 6, version
    spec, revision = s(), u("<I")
    variables = []
    for _ in range(u("<I")):
        name = s()
        shape = [u("<I") for _ in range(u("<B"))]
        dtype, size = u("<B"), u("<I")
        variables.append((name, dtype, shape, blob[pos:pos + size]))
        pos += size
    aliases = [(s(), s()) for _ in range(u("<I"))]
    return spec, revision, variables, aliases


def make_ctranslate2():
    f32 = struct.pack("<6f", 1, -2, 3.5, 0, -0.25, 1e-30)
    sample = [("encoder/a/weight", 0, [2, 3], f32), ("encoder/b/bias", 4, [3], np.array([0.5, -65504, 6e-5], "<f2").tobytes()),
              ("encoder/c/gamma", 5, [2], b"\xc0\x3f\x40\xc0"), ("encoder/num_heads", 2, [], struct.pack("<h", 6)),
              ("encoder/q/weight", 1, [2, 2], b"\x01\x02\xfd\x7f"), ("encoder/q/weight_scale", 0, [2], struct.pack("<2f", 2, 0.5)),
              ("encoder/r/weight", 2, [3], struct.pack("<3h", 1, -300, 32767)), ("encoder/r/weight_scale", 0, [], struct.pack("<f", 4)),
              ("encoder/s/weight", 1, [2], b"\x05\x06"), ("encoder/s/weight_scale", 4, [2], np.array([1, 3], "<f2").tobytes()),
              ("encoder/empty", 0, [0, 4], b""), ("encoder/count", 3, [], struct.pack("<i", 7))]
    aliases = [("decoder/a/weight", "encoder/a/weight"), ("decoder/q/weight", "encoder/q/weight"), ("encoder/ghost", "missing")]
    out("ctranslate2", "v6-all-dtypes.bin", ct2(sample, aliases))
    floats_only = [v for v in sample if v[1] in (0, 1, 2) and v[0] != "encoder/s/weight"]  # what versions < 4 can say
    out("ctranslate2", "v5.bin", ct2(sample, aliases, version=5))
    out("ctranslate2", "v3-item-sizes.bin", ct2(floats_only, aliases, version=3))
    out("ctranslate2", "v2-no-aliases.bin", ct2(floats_only, version=2))
    out("ctranslate2", "v1-no-spec.bin", ct2(floats_only, version=1))
    # The real converter's output (the committed random Whisper models), small variables only, with their scales.
    for kind in ["int8_float16", "int16", "bfloat16"]:
        spec, revision, variables, aliases = read_ct2(os.path.join(FIXTURES, "ctranslate2", f"random-{kind}", "model.bin"))
        by_name = {v[0]: v for v in variables}
        keep = {v[0] for v in sorted(variables, key=lambda v: (len(v[3]), v[0]))[:10]}
        quantized = next((v[0] for v in sorted(variables, key=lambda v: len(v[3])) if v[1] in (1, 2) and v[2]), None)
        if quantized:
            keep |= {quantized, quantized + "_scale"}
        chosen = [by_name[n] for n in keep if n in by_name]
        kept_aliases = [(a, t) for a, t in aliases if t in keep][:4] + aliases[:1]
        out("ctranslate2", f"whisper-random-{kind}-subset.bin", ct2(chosen, kept_aliases, spec=spec, revision=revision))
    good = ct2(sample[:3])
    out("ctranslate2", "broken-truncated.bin", good[:-5])
    out("ctranslate2", "broken-version-7.bin", struct.pack("<I", 7) + good[4:])
    out("ctranslate2", "broken-count.bin", ct2([], version=6)[:-8] + struct.pack("<I", 0xFFFFFFFF) + struct.pack("<I", 0))
    bad_dtype = bytearray(ct2([("x", 0, [1], b"\0\0\0\0")]))
    bad_dtype[bad_dtype.index(b"x\0") + 2 + 1 + 4] = 9
    out("ctranslate2", "broken-dtype-id.bin", bytes(bad_dtype))


# --- .npy ---------------------------------------------------------------------------------------------------------

def npy(array, version=None):
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def make_numpy():
    values = np.array([[0, -0.0, 1.5, np.inf], [-np.inf, np.nan, 1e-45, 3.4e38]], "<f4")
    out("numpy", "f4-2x4.npy", npy(values))
    out("numpy", "f4-scalar.npy", npy(np.array(2.5, "<f4")))
    out("numpy", "f4-1d.npy", npy(np.arange(5, dtype="<f4")))
    out("numpy", "f4-empty-0x3.npy", npy(np.zeros((0, 3), "<f4")))
    out("numpy", "f4-3d.npy", npy(np.arange(12, dtype="<f4").reshape(2, 1, 6)))
    out("numpy", "f8.npy", npy(np.array([1e300, -1e-300, np.pi, np.nan], "<f8")))
    out("numpy", "i2.npy", npy(np.array([-32768, 0, 32767], "<i2")))
    out("numpy", "i4.npy", npy(np.array([[-2**31, 2**31 - 1]], "<i4")))
    out("numpy", "f4-version-2.npy", npy(np.arange(3, dtype="<f4"), version=(2, 0)))
    out("numpy", "f4-version-3.npy", npy(np.arange(3, dtype="<f4"), version=(3, 0)))
    out("numpy", "mel-slice.npy", npy(np.load(os.path.join(FIXTURES, "frontend", "test_a_1s-80.npy"))[:4, :16].astype("<f4")))
    out("numpy", "broken-fortran.npy", npy(np.asfortranarray(np.ones((2, 3), "<f4"))))
    out("numpy", "broken-big-endian.npy", npy(np.ones(3, ">f4")))
    out("numpy", "broken-u1.npy", npy(np.ones(3, "u1")))
    out("numpy", "broken-truncated.npy", npy(np.arange(8, dtype="<f4"))[:-5])


# --- audio --------------------------------------------------------------------------------------------------------

def encode(samples, rate, fmt, subtype):
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def make_audio():
    speech, rate = sf.read(os.path.join(FIXTURES, "audio", "speech-16k.wav"), dtype="float32")
    mono = speech[16000:16000 + 800]  # 50 ms
    stereo = np.stack([mono, -0.5 * mono], axis=1)
    cases = [("wav-pcm16-16k.wav", mono, 16000, "WAV", "PCM_16"), ("wav-u8-8k.wav", mono[::2], 8000, "WAV", "PCM_U8"),
             ("wav-pcm24-stereo-22k.wav", stereo, 22050, "WAV", "PCM_24"), ("wav-float-48k.wav", mono, 48000, "WAV", "FLOAT"),
             ("wav-double.wav", mono[:200], 16000, "WAV", "DOUBLE"), ("wavex-pcm32-stereo.wav", stereo[:300], 44100, "WAVEX", "PCM_32"),
             ("wav-ulaw.wav", mono, 8000, "WAV", "ULAW"), ("wav-ima-adpcm.wav", mono, 16000, "WAV", "IMA_ADPCM"),
             ("wav-ms-adpcm.wav", mono, 16000, "WAV", "MS_ADPCM"), ("wav-gsm.wav", mono, 8000, "WAV", "GSM610"),
             ("flac-16.flac", mono, 16000, "FLAC", "PCM_16"), ("flac-24-stereo.flac", stereo, 44100, "FLAC", "PCM_24"),
             ("ogg-vorbis.ogg", mono, 16000, "OGG", "VORBIS"), ("ogg-opus.opus", mono, 48000, "OGG", "OPUS"),
             ("mp3.mp3", mono, 16000, "MP3", "MPEG_LAYER_III"), ("aiff-16.aiff", mono, 16000, "AIFF", "PCM_16"),
             ("caf-float.caf", mono, 16000, "CAF", "FLOAT"), ("w64-16.w64", mono, 16000, "W64", "PCM_16"),
             ("rf64-16.wav", mono, 16000, "RF64", "PCM_16"), ("au-16.au", mono, 16000, "AU", "PCM_16")]
    for name, samples, sample_rate, fmt, subtype in cases:
        try:
            out("audio", name, encode(samples, sample_rate, fmt, subtype))
        except Exception as error:  # a libsndfile built without the codec
            print(f"skipped {name}: {error}", file=sys.stderr)
    wav = encode(mono, 16000, "WAV", "PCM_16")
    out("audio", "damaged-truncated.wav", wav[:60])  # decodes what is there, with a warning
    out("audio", "broken-header-only.wav", wav[:44])
    out("audio", "broken-m4a-magic.m4a", b"\0\0\0\x20ftypM4A \0\0\0\0M4A mp42isom" + bytes(32))
    out("audio", "broken-text.wav", b"hello, this is not audio\n")


# --- regressions: inputs that crashed a fuzzer, minimised (the regression tests read them) -------------------------

def make_regressions():
    # Waveform reserved the header's declared length up front: a 42-byte FLAC (STREAMINFO only) declaring 2^36 - 1
    # frames made it allocate 256 GiB and abort.
    flac = bytearray(encode(np.zeros(64, "float32"), 16000, "FLAC", "PCM_16")[:42])
    assert flac[:4] == b"fLaC" and flac[4] & 0x7F == 0 and int.from_bytes(flac[5:8], "big") == 34  # STREAMINFO
    flac[21] |= 0x0F
    flac[22:26] = b"\xff\xff\xff\xff"  # total samples: the low 36 bits of bytes 21...25
    out("audio", "regression-flac-declares-2e36-frames.flac", bytes(flac))

    # Any rate libsndfile accepted was resampled to 16 kHz: a 16 KB 8-bit WAV declaring 1 Hz decoded to 256 M samples
    # (1 GB, a libFuzzer timeout). Rates below 1 kHz are now invalidSampleRate.
    frames = 16000
    out("audio", "regression-wav-1hz-16k-frames.wav",
        b"RIFF" + struct.pack("<I", 36 + frames) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 1, 1, 1, 8)
        + b"data" + struct.pack("<I", frames) + bytes(128 + i % 50 for i in range(frames)))

    # NumpyArray.header(shape:) stored the header length in 16 bits (version 1.0) whatever its size: re-encoding a
    # parsed array of rank 21 825 (a 43 KiB header of "1," here, 64 KiB once written as "1, ") trapped.
    def dict_length(rank):  # the header numpy (and the writer) produce for `rank` ones, before padding
        return len("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ", ".join(["1"] * rank))
    rank = next(r for r in range(21000, 23000) if (10 + dict_length(r) + 1 + 63) // 64 * 64 - 10 > 0xFFFF)
    header = ("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ",".join(["1"] * rank)).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    out("numpy", "regression-rank-21825-header-over-64k.npy",
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + struct.pack("<f", 1.5))
    assert rank == 21825, rank


if __name__ == "__main__":
    make_regressions()
    make_safetensors()
    make_ctranslate2()
    make_numpy()
    make_audio()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(CORPUS) for f in fs)
    print(f"seed corpora: {total} bytes under {CORPUS}")
