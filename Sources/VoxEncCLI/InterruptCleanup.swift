// Ctrl-C (SIGINT), SIGTERM or SIGHUP during `voxenc embed` would leave the output's hidden temporary files
// (`.NAME.npy.tmp-XXXXXX`, gigabytes for a long recording) behind on file systems without O_TMPFILE (elsewhere the
// data sits in unnamed files that vanish with the process): the writers clean up after errors, not after
// signals. The paths being written are copied into preallocated C strings; the handler unlinks them (unlink(2) is
// async-signal-safe), restores the default action and re-raises the signal, so the exit status still says which
// signal ended the process (130 for Ctrl-C in a shell).

@preconcurrency import Glibc

enum InterruptCleanup {
    /// A batch job has up to chunks-per-batch outputs open, two files each (.npy and sidecar); 256 kB of slots.
    static let slotCount = 64
    static let slotLength = Int(PATH_MAX)
    /// `slotCount` NUL-terminated paths; an empty string is a free slot. Written by the main thread, read by the
    /// handler.
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: slotCount * slotLength)
        buffer.initialize(repeating: 0, count: slotCount * slotLength)
        return buffer
    }()

    /// Installs the handlers. Call once, on the main thread, before any output is written. A signal ignored at start
    /// stays ignored (`voxenc … &` in a script ignores SIGINT, `nohup` SIGHUP); one inherited blocked is unblocked
    /// on this thread (a parent's runtime can leave its own mask on the children it spawns), so that it is delivered.
    static func install() {
        _ = slots  // initialised here, never lazily inside the handler
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            var current = sigaction()
            sigaction(signalNumber, nil, &current)
            let ignored = unsafeBitCast(SIG_IGN, to: Int.self)
            if let handler = current.__sigaction_handler.sa_handler, unsafeBitCast(handler, to: Int.self) == ignored { continue }
            sigaddset(&unblock, signalNumber)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                for slot in 0..<InterruptCleanup.slotCount {
                    let path = InterruptCleanup.slots + slot * InterruptCleanup.slotLength
                    if path.pointee != 0 { unlink(path) }
                }
                signal(signalNumber, SIG_DFL)
                raise(signalNumber)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signalNumber, &action, nil)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// Remembers `paths` (at most `slotCount`) as the temporary files to remove if a signal arrives.
    static func track(_ paths: [String]) {
        clear()
        for (slot, path) in paths.prefix(slotCount).enumerated() where path.utf8.count < slotLength {
            let destination = slots + slot * slotLength
            path.withCString { source in
                // The first byte last: a slot is in use once its first byte is not NUL, so the handler never sees
                // a half-copied path.
                let count = strlen(source)
                memcpy(destination + 1, source + 1, count)
                destination.pointee = source.pointee
            }
        }
    }

    /// Forgets the tracked paths (the files were renamed into place or removed).
    static func clear() {
        for slot in 0..<slotCount { slots[slot * slotLength] = 0 }
    }
}
