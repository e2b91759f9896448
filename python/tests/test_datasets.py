"""Dataset outputs against the references: float16 and bfloat16 arrays (Python and the CLI's files) equal numpy's
`astype(np.float16)` and ml_dtypes' `astype(bfloat16)` of the float32 output bit for bit; pooled vectors equal the
exactly-rounded mean (math.fsum) of the valid rows; the CLI's --output-tar shards read with Python's tarfile and with
webdataset as they are and hold the CLI's file outputs. Needs ml_dtypes and webdataset (Tests/bindings/run.sh
installs them)."""
import io
import json
import math
import os
import subprocess
import tarfile

import ml_dtypes
import numpy as np
import pytest
import voxenc

from conftest import AUDIO, REPO, SPEECH, VOXTRAL, WHISPER, cli_binary

FILES = [os.path.join(AUDIO, name) for name in ("speech-16k.wav", "speech-22k-stereo.flac", "speech-44k-stereo-37s.flac")]
REAL_WHISPER = os.path.join(REPO, "Weights", "models", "whisper-tiny.en")


def bits(array):
    return np.ascontiguousarray(array).view(np.uint16 if array.dtype.itemsize == 2 else np.uint32)


def safetensors_array(path):
    """The tensor "embeddings" of a safetensors file, read by hand from its documented layout."""
    raw = open(path, "rb").read()
    length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + length])
    entry = header["embeddings"]
    begin, end = entry["data_offsets"]
    dtype = {"F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16}[entry["dtype"]]
    data = raw[8 + length + begin:8 + length + end]
    return np.frombuffer(data, dtype=dtype).reshape(entry["shape"]), header["__metadata__"]


@pytest.mark.parametrize("model", [VOXTRAL, WHISPER])
def test_python_half_arrays_are_numpys_and_ml_dtypes_rounding(model):
    full = voxenc.Model(model, threads=2).embed(SPEECH).array
    half = voxenc.Model(model, threads=2, dtype="float16").embed(SPEECH)
    brain = voxenc.Model(model, threads=2, dtype="bfloat16").embed(SPEECH)
    assert half.dtype == "float16" and half.array.dtype == np.float16 and half.array.shape == full.shape
    assert np.array_equal(bits(half.array), bits(full.astype(np.float16)))
    assert brain.array.dtype == ml_dtypes.bfloat16
    assert np.array_equal(bits(brain.array), bits(full.astype(ml_dtypes.bfloat16)))


def test_cli_half_files_are_numpys_and_ml_dtypes_rounding(tmp_path):
    binary = cli_binary()
    for audio in FILES:
        run = lambda *flags: subprocess.run([binary, "embed", audio, "--model", VOXTRAL, "--threads", "2", "--force",
                                             *flags], check=True, capture_output=True)
        run("-o", str(tmp_path / "f32.npy"))
        run("-o", str(tmp_path / "f16.npy"), "--dtype", "float16")
        run("-o", str(tmp_path / "bf16.safetensors"), "--format", "safetensors", "--dtype", "bfloat16")
        full, half = np.load(tmp_path / "f32.npy"), np.load(tmp_path / "f16.npy")
        assert half.dtype == np.dtype("<f2") and json.load(open(tmp_path / "f16.json"))["dtype"] == "float16"
        assert np.array_equal(bits(half), bits(full.astype(np.float16)))
        brain, metadata = safetensors_array(tmp_path / "bf16.safetensors")
        assert metadata["dtype"] == "bfloat16"
        assert np.array_equal(bits(brain), bits(full.astype(ml_dtypes.bfloat16)))


def exact_mean(rows):
    """Each column's mean, the sum exact (math.fsum), rounded once to float32."""
    return np.array([math.fsum(column) / len(column) for column in rows.astype(np.float64).T], dtype=np.float32)


@pytest.mark.parametrize("model", [VOXTRAL, WHISPER])
def test_pooled_vectors_are_the_mean_of_the_valid_rows(model):
    rows = voxenc.Model(model, threads=2).embed(FILES[2])
    pooled = voxenc.Model(model, threads=2, pool="mean").embed(FILES[2])
    assert pooled.pooled and pooled.array.shape == (rows.array.shape[1],)
    assert rows.valid_frames < rows.array.shape[0]          # the file leaves padding in its last chunk
    reference = exact_mean(rows.array[:rows.valid_frames])
    # A float64 running sum differs from the exact sum by far less than a float32 ulp: equal after rounding, but for
    # the rare value within ~1e-13 of a rounding boundary (then one ulp).
    ulps = np.abs(bits(pooled.array).astype(np.int64) - bits(reference).astype(np.int64))
    assert ulps.max() <= 1 and (ulps == 0).mean() > 0.99   # not a tolerance: ≤ 1 ulp, and that rarely (see above)
    assert not np.allclose(pooled.array, exact_mean(rows.array), rtol=1e-4, atol=0)   # never the padding
    half = voxenc.Model(model, threads=2, pool="mean", dtype="float16").embed(FILES[2]).array
    assert np.array_equal(bits(half), bits(pooled.array.astype(np.float16)))


def test_bad_dtype_and_pool_are_usage_errors():
    with pytest.raises(voxenc.UsageError, match="options.dtype"):
        voxenc.Model(VOXTRAL, dtype="float8")
    with pytest.raises(voxenc.UsageError, match="options.pool"):
        voxenc.Model(VOXTRAL, pool="max")


def test_output_tar_reads_with_tarfile_and_webdataset_and_holds_the_cli_files(tmp_path):
    import webdataset
    binary = cli_binary()
    manifest = tmp_path / "m.jsonl"
    ids = [f"spk{i % 2}/utt{i}" for i in range(len(FILES))]
    manifest.write_text("".join(json.dumps({"id": i, "path": p}) + "\n" for i, p in zip(ids, FILES)))
    common = [binary, "embed", "--manifest", str(manifest), "--model", VOXTRAL, "--threads", "2", "--quiet",
              "--dtype", "float16"]
    subprocess.run(common + ["--output-dir", str(tmp_path / "files")], check=True, capture_output=True)
    subprocess.run(common + ["--output-tar", str(tmp_path / "shard-{shard}.tar"), "--shard", "0/1"], check=True,
                   capture_output=True)
    shard = tmp_path / "shard-000000.tar"
    with tarfile.open(shard) as archive:
        names = archive.getnames()
        assert names == [f"{i}.{ext}" for i in ids for ext in ("npy", "json")]
        for i in ids:
            member = archive.extractfile(f"{i}.npy").read()
            assert member == (tmp_path / "files" / f"{i}.npy").read_bytes()
            assert json.load(archive.extractfile(f"{i}.json")) == json.load(open(tmp_path / "files" / f"{i}.json"))
    samples = list(webdataset.WebDataset(str(shard), shardshuffle=False).decode())
    assert [s["__key__"] for s in samples] == ids
    for sample, i in zip(samples, ids):
        assert np.array_equal(bits(sample["npy"]), bits(np.load(tmp_path / "files" / f"{i}.npy")))
        assert sample["json"]["dtype"] == "float16"


def test_input_tar_from_python_tarfile_gives_the_files_outputs(tmp_path):
    binary = cli_binary()
    archive_path = tmp_path / "in.tar"
    with tarfile.open(archive_path, "w") as archive:        # Python's writer (pax format by default)
        for index, path in enumerate(FILES):
            archive.add(path, arcname=f"clips/{'a' * 120}/c{index}{os.path.splitext(path)[1]}")   # > 100 bytes: pax
        bad = b"RIFF not really"
        info = tarfile.TarInfo("clips/bad.wav")
        info.size = len(bad)
        archive.addfile(info, io.BytesIO(bad))
    run = subprocess.run([binary, "embed", "--input-tar", str(archive_path), "--model", VOXTRAL, "--threads", "2",
                          "--output-dir", str(tmp_path / "out"), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 3, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["status"] for r in results].count("ok") == len(FILES)
    failed = [r for r in results if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"].startswith(f"{archive_path}:clips/bad.wav: ")
    for index, path in enumerate(FILES):
        key = f"clips/{'a' * 120}/c{index}"
        direct = tmp_path / f"direct{index}.npy"
        subprocess.run([binary, "embed", path, "--model", VOXTRAL, "--threads", "2", "-o", str(direct)], check=True,
                       capture_output=True)
        assert (tmp_path / "out" / f"{key}.npy").read_bytes() == direct.read_bytes()


def test_bfloat16_without_ml_dtypes_is_uint16_bits(monkeypatch):
    full = voxenc.Model(VOXTRAL, threads=2).embed(SPEECH).array
    monkeypatch.setattr(voxenc, "_bfloat16", lambda: None)       # as if ml_dtypes were not installed
    brain = voxenc.Model(VOXTRAL, threads=2, dtype="bfloat16").embed(SPEECH).array
    assert brain.dtype == np.uint16
    assert np.array_equal(brain, bits(full.astype(ml_dtypes.bfloat16)))
