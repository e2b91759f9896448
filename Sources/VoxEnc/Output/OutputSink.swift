// Where an output's bytes go while it is written: an AtomicFileWriter (a file renamed into place when complete) or a
// ScratchFile (an unnamed file whose bytes are then copied into a tar shard as one member).

#if canImport(Glibc)
import Glibc
#endif
import Foundation

protocol OutputSink: AnyObject {
    /// Appends raw bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError)
}

extension OutputSink {
    func write(_ data: Data) throws(OutputError) {
        var failure: OutputError?
        data.withUnsafeBytes { raw in
            do throws(OutputError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func write(_ bytes: [UInt8]) throws(OutputError) { try write(Data(bytes)) }
}

/// write(2) until every byte of `bytes` is written (EINTR retried). Returns 0, or the errno of the failure.
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    var offset = 0
    while offset < bytes.count {
        let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return errno
        }
        offset += written
    }
    return 0
}
