#!/usr/bin/env bash
# Makes the committed real-speech samples with espeak-ng and sox (Debian packages, deterministic output).
#   Tests/Fixtures/audio/speech-16k.wav         mono, 16 kHz, 16-bit PCM (the README's main job and mel parity)
#   Tests/Fixtures/audio/speech-22k-stereo.flac stereo, 22.05 kHz, 16-bit FLAC (decode + resample parity)
#   Tests/Fixtures/audio/speech-44k-stereo-37s.flac  stereo, 44.1 kHz, 16-bit FLAC, 37 s: two 30 s chunks of real
#       speech for the CTranslate2 Whisper parity (make_ctranslate2_fixtures.py). Left = the passage at −11 dBFS peak,
#       right = the same with its first 4 s silent, so the channel mean differs from either channel (≈ 0.87 MB).
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
# The long passage: espeak-ng 22.05 kHz → 44.1 kHz, volume 0.35 (smaller FLAC), right channel muted for 4 s.
espeak-ng -v en-us -s 150 -w "$tmp/c.wav" "The weather station on the hill records the wind, the rain and the \
temperature every ten minutes. Each morning a volunteer walks up the narrow path, checks the instruments, and writes \
the numbers into a small green notebook. In winter the path is icy, so she carries a walking stick and a flask of hot \
tea. Last year the station measured the strongest storm in half a century. The roof of the shed was torn away, but \
the rain gauge kept working through the night. Scientists from the university later used those readings to improve \
their flood warnings for the villages in the valley below."
sox -D "$tmp/c.wav" -r 44100 -b 16 "$tmp/left.wav" vol 0.35
sox -D "$tmp/left.wav" "$tmp/right.wav" trim 4 pad 4 0
sox -D -M "$tmp/left.wav" "$tmp/right.wav" -C 8 "$out/speech-44k-stereo-37s.flac"
ls -l "$out"
