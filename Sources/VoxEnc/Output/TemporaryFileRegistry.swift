// The temporary files `AtomicFileWriter`s are writing, kept where a signal handler can reach them: preallocated C
// strings, registered before each file is created and released after it is renamed or removed. A program that ends
// on SIGINT or SIGTERM calls `AtomicFileWriter.removeTemporaryFiles()` from its handler (unlink(2) is
// async-signal-safe), so that a Ctrl-C during a long job leaves no `.NAME.tmp-XXXXXX` behind.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

enum TemporaryFileRegistry {
    /// Files tracked at once; a writer beyond them still works, it is just not removed on a signal.
    static let slotCount = 64
    static let slotLength = Int(PATH_MAX)

    /// `slotCount` NUL-terminated paths; an empty string is a free slot. Written under `taken`'s lock; read without it
    /// by the signal handler, which only ever sees a slot empty or complete (the first byte is written last).
    nonisolated(unsafe) static let paths: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: slotCount * slotLength)
        buffer.initialize(repeating: 0, count: slotCount * slotLength)
        return buffer
    }()
    static let taken = Mutex([Bool](repeating: false, count: slotCount))

    /// Records `path`; returns its slot, or nil when every slot is in use or the path is too long.
    static func register(_ path: String) -> Int? {
        guard path.utf8.count < slotLength else { return nil }
        return taken.withLock { taken -> Int? in
            guard let slot = taken.firstIndex(of: false) else { return nil }
            taken[slot] = true
            let destination = paths + slot * slotLength
            path.withCString { source in
                let count = strlen(source)
                memcpy(destination + 1, source + 1, count)  // the rest of the path and its NUL first
                destination.pointee = source.pointee
            }
            return slot
        }
    }

    /// Forgets a slot (its file was renamed into place or removed).
    static func release(_ slot: Int) {
        taken.withLock { taken in
            paths[slot * slotLength] = 0
            taken[slot] = false
        }
    }

    /// Unlinks every registered file. Async-signal-safe once `paths` is initialised: no lock, no allocation.
    static func removeAll() {
        for slot in 0..<slotCount {
            let path = paths + slot * slotLength
            if path.pointee != 0 { unlink(path) }
        }
    }
}

extension AtomicFileWriter {
    /// Removes the temporary files of every writer not yet committed or abandoned. For signal handlers: it takes no
    /// lock and allocates nothing. Call `prepareForSignalHandlers()` once before installing the handler.
    public static func removeTemporaryFiles() {
        TemporaryFileRegistry.removeAll()
    }

    /// Allocates the registry now, so that `removeTemporaryFiles()` never initialises it inside a signal handler.
    public static func prepareForSignalHandlers() {
        _ = TemporaryFileRegistry.paths
        TemporaryFileRegistry.taken.withLock { _ in }
    }
}
