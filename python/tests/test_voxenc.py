"""The Python package against the CLI (bit for bit), the reference fixture, bad input, and threads on one model."""
import gc
import json
import os
import struct
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import voxenc
from conftest import AUDIO, REPO, SPEECH, VOXTRAL, WHISPER
from tolerances import bound

# End to end from a file against transformers' get_audio_features, and the duration's rounding: the shared table's
# bounds (Tests/tolerances/tolerances.json), the same the Swift tests use.
END_TO_END_RELATIVE_L2 = bound("EncoderTolerance.endToEndRelativeL2")
DURATION_SECONDS = bound("OutputTolerance.durationSeconds")
REAL_MODEL = os.path.join(REPO, "Weights", "models", "whisper-tiny.en")


@pytest.fixture(scope="module")
def model():
    with voxenc.Model(VOXTRAL, threads=2) as m:
        yield m


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(np.asarray(a, np.float32).view(np.uint32), b.view(np.uint32))


def reference_tensor(path, name):
    """A float32 tensor of a safetensors file (the reference fixtures), read with numpy alone."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        entry = header[name]
        begin, end = entry["data_offsets"]
        f.seek(8 + size + begin)
        return np.frombuffer(f.read(end - begin), dtype="<f4").reshape(entry["shape"])


def pcm16_samples(path):
    """A 16-bit PCM WAV as float32 x / 32768: what libsndfile (and so voxenc) decodes."""
    with wave.open(path) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768, w.getframerate()


def test_version_and_build_info():
    info = voxenc.build_info()
    assert info["version"] == voxenc.version() and info["abi"] == 2 and "f32" in info["precisions"]


def test_embed_is_the_cli_bit_for_bit_and_near_the_reference(model, cli):
    e = model.embed(SPEECH)
    expected = cli(SPEECH, VOXTRAL)
    assert e.array.dtype == np.float32 and e.array.shape == (375, 96)
    assert same_bits(e.array, expected)
    assert (e.kind, e.frame_rate, e.chunks, e.precision) == ("adapter", 12.5, 1, "f32")
    assert e.valid_frames == int(np.ceil(93388 / 16000 * 12.5)) and abs(e.duration - 93388 / 16000) <= DURATION_SECONDS
    reference = reference_tensor(os.path.join(REPO, "Tests", "Fixtures", "encoder",
                                              "reference-voxtral-speech.safetensors"), "speech.adapter")
    error = np.linalg.norm(e.array.astype(np.float64) - reference) / np.linalg.norm(reference)
    assert error <= END_TO_END_RELATIVE_L2, f"relative L2 {error:.3g} to get_audio_features"


@pytest.mark.parametrize("name", sorted(os.listdir(AUDIO)))
def test_every_fixture_format_from_a_path_and_from_bytes(model, cli, name):
    path = os.path.join(AUDIO, name)
    expected = cli(path, VOXTRAL)
    with open(path, "rb") as f:
        data = f.read()
    assert same_bits(model.embed(path).array, expected)
    assert same_bits(model.embed_bytes(data, name=name).array, expected)


def test_samples_and_stages_give_the_same_bits(model, cli):
    samples, rate = pcm16_samples(SPEECH)
    expected = cli(SPEECH, VOXTRAL)
    assert same_bits(model.embed_samples(samples, rate).array, expected)
    assert same_bits(model.embed_samples(samples.astype(np.float64), rate).array, expected)  # converted
    mel = model.mel(samples, rate)
    assert mel.shape == (1, 128, 3000)
    states = model.encode(mel)
    assert same_bits(states.array, cli(SPEECH, VOXTRAL, "--encoder-only"))
    assert same_bits(model.adapt(states.array).array, expected)


def test_encoder_only_and_whisper(cli):
    with voxenc.Model(VOXTRAL, threads=2, encoder_only=True) as m:
        e = m.embed(SPEECH)
        assert (e.kind, e.array.shape, e.frame_rate) == ("encoder", (1500, 64), 50.0)
        assert same_bits(e.array, cli(SPEECH, VOXTRAL, "--encoder-only"))
    with voxenc.Model(WHISPER, threads=2) as w:
        e = w.embed(SPEECH)
        assert same_bits(e.array, cli(SPEECH, WHISPER))
        with pytest.raises(voxenc.UsageError, match="no adapter"):
            w.adapt(e.array)


@pytest.mark.skipif(not os.path.isdir(REAL_MODEL), reason="Whisper tiny.en is not installed "
                    "(python3 Weights/tools/install_models.py)")
def test_real_whisper_tiny_en(cli):
    with voxenc.Model(REAL_MODEL, threads=2) as m:
        path = os.path.join(AUDIO, "speech-44k-stereo-37s.flac")
        assert same_bits(m.embed(path).array, cli(path, REAL_MODEL))


def test_bad_input_raises_typed_errors_and_the_model_keeps_working(model, cli, tmp_path):
    missing = str(tmp_path / "missing.wav")
    with pytest.raises(voxenc.InputNotFoundError, match="missing.wav") as caught:
        model.embed(missing)
    assert caught.value.code == 66 and isinstance(caught.value, FileNotFoundError)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(bytes(range(256)) * 16)
    with pytest.raises(voxenc.AudioDataError, match="garbage.wav") as caught:
        model.embed(str(garbage))
    assert caught.value.code == 65
    with pytest.raises(voxenc.AudioDataError, match="upload.mp4.*MP4"):
        model.embed_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64), name="upload.mp4")
    with pytest.raises(voxenc.AudioDataError, match="empty"):
        model.embed_bytes(b"")
    with pytest.raises(voxenc.AudioDataError, match="sample rate"):
        model.embed_samples(np.zeros(100, np.float32), 0)
    with pytest.raises(voxenc.AudioDataError, match="non-finite"):
        model.embed_samples(np.array([0, np.nan, 0], np.float32), 16000)
    with pytest.raises(voxenc.UsageError, match="1-D"):
        model.embed_samples(np.zeros((2, 100), np.float32), 16000)
    with pytest.raises(voxenc.UsageError, match="no samples"):
        model.embed_samples(np.zeros(0, np.float32), 16000)
    with pytest.raises(voxenc.UsageError, match=r"\[chunks, 128, 3000\]"):
        model.encode(np.zeros((1, 80, 3000), np.float32))
    with pytest.raises(voxenc.UsageError, match="multiple of 1500"):
        model.adapt(np.zeros((1499, 64), np.float32))
    with pytest.raises(voxenc.InputNotFoundError, match="no-such-model"):
        voxenc.Model(str(tmp_path / "no-such-model"))
    with pytest.raises(voxenc.UsageError, match="fp8"):
        voxenc.Model(VOXTRAL, precision="fp8")
    assert same_bits(model.embed(SPEECH).array, cli(SPEECH, VOXTRAL))  # still works


def test_closed_model_raises():
    m = voxenc.Model(VOXTRAL, threads=1)
    m.close()
    with pytest.raises(voxenc.UsageError, match="closed"):
        m.embed(SPEECH)


def test_array_outlives_its_embedding_and_model(cli):
    with voxenc.Model(VOXTRAL, threads=2) as m:
        array = m.embed(SPEECH).array
    gc.collect()
    assert not array.flags["OWNDATA"] and array.base is not None  # over the library's buffer: no copy
    assert same_bits(array, cli(SPEECH, VOXTRAL))


def test_threads_share_one_model(model, cli):
    expected = cli(SPEECH, VOXTRAL)
    with ThreadPoolExecutor(4) as pool:
        arrays = list(pool.map(lambda _: model.embed(SPEECH).array, range(12)))
    assert all(same_bits(a, expected) for a in arrays)


def test_the_gil_is_released_while_voxenc_computes(model):
    """A Python thread keeps counting during a long call: with the GIL held it could not run at all."""
    samples = np.random.default_rng(0).standard_normal(16000 * 180).astype(np.float32) * 0.1  # 6 chunks: ≈ 0.2–0.4 s
    ticks, stop = [], threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    counter = threading.Thread(target=count)
    counter.start()
    try:
        start = time.perf_counter()
        model.embed_samples(samples, 16000)
        end = time.perf_counter()
    finally:
        stop.set()
        counter.join()
    margin = (end - start) * 0.2
    inside = sum(start + margin < t < end - margin for t in ticks)
    assert end - start > 0.05, "the call was too short to tell"   # not a tolerance: the measurement's own precondition
    assert inside > 100, f"{inside} ticks of another thread during the middle 60 % of a {end - start:.2f} s call"
