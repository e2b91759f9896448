"""Live streams (Model.stream) through the causal family, Voxtral Realtime: every pull concatenated equals the CLI's
`voxenc embed` of the same file bit for bit, whatever the piece sizes and the step; bad input raises typed errors."""
import os
import random

import numpy as np
import pytest
import wave

import voxenc
from conftest import REPO, SPEECH, VOXTRAL

REALTIME = os.path.join(REPO, "Tests", "Fixtures", "realtime", "realtime-tiny-hf")


@pytest.fixture(scope="module")
def model():
    with voxenc.Model(REALTIME, threads=2) as m:
        yield m


def speech():
    """The fixture's 16-bit samples as libsndfile reads them (x / 32768), with the standard library's wave."""
    with wave.open(SPEECH) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        data = w.readframes(w.getnframes())
    return (np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768).astype(np.float32)


@pytest.mark.parametrize("step_ms,seed", [(80, 1), (480, 2), (1920, 3)])
def test_streamed_in_random_pieces_is_the_cli_bit_for_bit(model, cli, step_ms, seed):
    expected = cli(SPEECH, REALTIME)
    samples = speech()
    rng = random.Random(seed)
    pulled, position = [], 0
    with model.stream(step_ms=step_ms) as stream:
        info = stream.info
        assert info["leading_pad_rows"] == 32 and info["width"] == expected.shape[1] and info["step_ms"] == step_ms
        while position < len(samples):
            size = rng.randint(1, 6000)
            stream.push(samples[position:position + size])
            position += size
            pulled.append(stream.flush() if rng.random() < 0.15 else stream.pull())  # flush: the same bits, sooner
        pulled.append(stream.finish())
        assert stream.info["finished"] and stream.info["rows_pulled"] == expected.shape[0]
    rows = np.concatenate(pulled)
    assert sum(len(p) > 0 for p in pulled) > 2, "rows came out while the audio arrived"
    assert rows.shape == expected.shape and np.array_equal(rows, expected)


def test_whole_file_through_embed_samples_is_the_same(model, cli):
    e = model.embed_samples(speech(), 16000)
    assert np.array_equal(e.array, cli(SPEECH, REALTIME)) and e.valid_frames == 73


def test_bad_input_raises_typed_errors(model):
    with model.stream() as stream:
        with pytest.raises(voxenc.AudioDataError, match="sample 1"):
            stream.push(np.array([0.0, np.nan], dtype=np.float32))
        stream.push(np.zeros(100, dtype=np.float32))  # the stream is unchanged after a refused push
        with pytest.raises(voxenc.AudioDataError, match="changed"):
            stream.push(np.zeros(10, dtype=np.float32), sample_rate=8000)
        with pytest.raises(voxenc.UsageError, match="mono"):
            stream.push(np.zeros((2, 10), dtype=np.float32))
        stream.finish()
        with pytest.raises(voxenc.UsageError, match="finished"):
            stream.push(np.zeros(10, dtype=np.float32))
    with pytest.raises(voxenc.UsageError, match="closed"):
        stream.pull()
    with pytest.raises(voxenc.UsageError, match="80"):
        model.stream(step_ms=100)
    with voxenc.Model(VOXTRAL, threads=1) as offline:
        with pytest.raises(voxenc.UsageError, match="whole recordings"):
            offline.stream()
