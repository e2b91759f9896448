// libFuzzer target: the audio loader (`Waveform(contentsOf:)`: libsndfile decode, downmix, soxr resample to 16 kHz)
// on arbitrary bytes, averaging the channels and again picking channel 0. Thrown `AudioError`s are fine; a crash, an
// ASan report, a hang, running out of memory or a broken invariant is a finding.
//
// The file is named `.wav`: libsndfile detects the container from the bytes, the name only matters for headerless
// formats (`.au`, `.vox`, `.gsm`), which a user's WAV/FLAC/MP3 never is.

import VoxEncAudio

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, suffix: "wav")
    for selection in [ChannelSelection.average, .channel(0)] {
        do {
            let waveform = try Waveform(contentsOf: path, channels: selection)
            guard waveform.sourceFrameCount > 0, waveform.sourceChannelCount > 0, waveform.sourceSampleRate > 0 else {
                FuzzInput.violated("decoded \(waveform.sourceFrameCount) frames, \(waveform.sourceChannelCount) "
                                   + "channels at \(waveform.sourceSampleRate) Hz")
            }
        } catch {
            continue
        }
    }
    return 0
}
