#!/usr/bin/env bash
# Makes the committed real-speech samples with espeak-ng and sox (Debian packages, deterministic output).
#   Tests/Fixtures/audio/speech-16k.wav         mono, 16 kHz, 16-bit PCM (the README's main job and mel parity)
#   Tests/Fixtures/audio/speech-22k-stereo.flac stereo, 22.05 kHz, 16-bit FLAC (decode + resample parity)
# Usage: Weights/tools/make_speech_samples.sh   (needs: apt-get install -y espeak-ng sox)
set -euo pipefail
out="$(cd "$(dirname "$0")/../.." && pwd)/Tests/Fixtures/audio"
mkdir -p "$out"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -s 160 -w "$tmp/a.wav" "Voxtral turns speech into embeddings. The quick brown fox jumps over the lazy dog."
espeak-ng -v en-gb -s 140 -p 70 -w "$tmp/b.wav" "Every chunk of thirty seconds is encoded on its own."
# espeak-ng speaks at 22050 Hz mono.
sox -D "$tmp/a.wav" -r 16000 -b 16 "$out/speech-16k.wav"
# Stereo: left = first sentence, right = second sentence (both 22.05 kHz), cut to the shorter length.
sox -D -M "$tmp/a.wav" "$tmp/b.wav" -b 16 "$out/speech-22k-stereo.flac" trim 0 3.5
ls -l "$out"
