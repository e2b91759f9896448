"""Hugging Face datasets in-process: the recipe of docs/scale-out.md ("## Hugging Face datasets (in-process)") over
the 16 files + 2 broken ones of the corpus: Dataset.from_dict → map(batched=True) with one voxenc.Model (mean-pooled,
float16). Every vector equals the CLI's `voxenc embed --pool mean --dtype float16` file bit for bit; the broken files
have their errors and empty vectors."""

import json
import os
import sys

import numpy as np

import harness


def test_datasets_recipe_gives_the_cli_bits(tmp_path):
    corpus = harness.Corpus(tmp_path)
    model = harness.model_dir()
    reference = tmp_path / "reference"
    run = harness.run([str(harness.voxenc_binary()), "embed", "--manifest", str(corpus.manifest), "--output-dir",
                       str(reference), "--model", str(model), "--threads", "2", "--quiet", "--pool", "mean",
                       "--dtype", "float16"], timeout=300)
    assert run.returncode == 3, run.stderr
    files = tmp_path / "files.txt"
    files.write_text("".join(f"{path}\n" for _, path in corpus.entries))
    out = tmp_path / "embeddings"
    recipe = harness.recipe("Hugging Face datasets (in-process)", [
        ('"/models/voxtral-mini"', json.dumps(str(model))),
        ('threads=4', 'threads=2'),
        ('batch_size=16', 'batch_size=4'),
        ('"/data/files.txt"', json.dumps(str(files))),
        ('"/data/embeddings"', json.dumps(str(out))),
    ])
    driver = tmp_path / "driver.py"
    driver.write_text(recipe)
    env = dict(os.environ, HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    process = harness.run([sys.executable, str(driver)], timeout=300, env=env, cwd=tmp_path)
    assert process.returncode == 0, f"the datasets driver failed (exit {process.returncode}):\n{process.stderr[-4000:]}"

    from datasets import load_from_disk
    dataset = load_from_disk(str(out))
    assert str(dataset.features["embedding"]) == "List(Value('float16'))", dataset.features
    table = dataset.with_format("arrow")[:]
    paths, errors = table.column("path").to_pylist(), table.column("error").to_pylist()
    vectors = [np.asarray(v.values.to_numpy(zero_copy_only=False)) for v in table.column("embedding")]
    assert paths == [str(p) for _, p in corpus.entries]
    for (file_id, _), vector, error in zip(corpus.entries, vectors, errors):
        if file_id in corpus.broken:
            assert error and vector.size == 0, (file_id, error)
            continue
        expected = np.load(reference / f"{file_id}.npy")
        assert error == "" and vector.dtype == np.float16 and expected.shape == vector.shape
        assert np.array_equal(vector.view(np.uint16), expected.view(np.uint16)), f"{file_id} differs from the CLI's"
