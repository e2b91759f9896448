"""Fixtures shared by the tests: the repository's paths and the CLI's own output for each case (the oracle for
bit-identity). The CLI binary: VOXENC_CLI, else .build/release/voxenc."""
import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOXTRAL = os.path.join(REPO, "Tests", "Fixtures", "encoder", "voxtral-tiny-hf")
WHISPER = os.path.join(REPO, "Tests", "Fixtures", "encoder", "whisper-tiny-hf")
SPEECH = os.path.join(REPO, "Tests", "Fixtures", "audio", "speech-16k.wav")
AUDIO = os.path.join(REPO, "Tests", "Fixtures", "audio")
# The test tolerances: one table (Tests/tolerances/tolerances.json) for the Swift, C and Python tests.
sys.path.insert(0, os.path.join(REPO, "Tests", "tolerances"))


def cli_binary():
    for candidate in (os.environ.get("VOXENC_CLI"), os.path.join(REPO, ".build", "release", "voxenc")):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.fail("no voxenc CLI to compare with: swift build -c release, or set VOXENC_CLI")


@pytest.fixture(scope="session")
def cli(tmp_path_factory):
    """cli(file, model, *flags) → the array `voxenc embed file --model model -o X.npy *flags` writes (cached)."""
    binary, cache, work = cli_binary(), {}, tmp_path_factory.mktemp("cli")

    def run(audio, model, *flags):
        key = (audio, model, flags)
        if key not in cache:
            out = os.path.join(work, f"{len(cache)}.npy")
            subprocess.run([binary, "embed", audio, "--model", model, "--threads", "2", "-o", out, "--force", *flags],
                           check=True, capture_output=True)
            cache[key] = np.load(out)
        return cache[key]

    return run
