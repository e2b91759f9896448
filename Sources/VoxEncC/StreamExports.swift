// The C ABI's live streams (voxenc_stream_*, Sources/CVoxEncABI/include/voxenc.h) over StreamingSession. A stream
// handle is a retained StreamHandle; its calls are serialised by its lock, so a misused handle shared between
// threads cannot corrupt it.

import CVoxEncABI
import Foundation
import VoxEnc

final class StreamHandle: @unchecked Sendable {  // the session is touched only under `lock`
    let lock = NSLock()
    let session: StreamingSession
    let stepMilliseconds: Int
    var description = CString("{}")

    init(session: StreamingSession, stepMilliseconds: Int) {
        self.session = session
        self.stepMilliseconds = stepMilliseconds
    }
}

private func stream(_ pointer: OpaquePointer?) -> StreamHandle? {
    pointer.map { Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

private func store<T>(_ out: ErrorOut, _ error: any Error) -> T? {
    out?.pointee = OpaquePointer(Unmanaged.passRetained(ErrorHandle(ErrorReport(error))).toOpaque())
    return nil
}

private func usage<T>(_ out: ErrorOut, _ message: String) -> T? {
    out?.pointee = OpaquePointer(Unmanaged.passRetained(ErrorHandle.usage(message)).toOpaque())
    return nil
}

/// Rows of a stream as a result block: `chunks` carries the first row's index in the stream.
private func rows(_ values: [Float], first: Int, _ session: StreamingSession, _ out: ErrorOut) -> ResultPointer {
    let count = values.count / session.width
    let block = ResultBlock.make(values, rows: count, width: session.width,
                                 frameRate: session.embedder.output(session.kind).rowsPerSecond, validRows: count,
                                 chunks: first, duration: Double(session.audioSampleCount) / 16_000,
                                 precision: session.embedder.configuration.precision,
                                 kind: StaticCString.kind(session.kind))
    return block ?? usage(out, "out of memory for a [\(count), \(session.width)] result")
}

@_cdecl("voxenc_stream_open")
public func voxenc_stream_open(_ pointer: OpaquePointer?, _ stepMilliseconds: Int32, _ error: ErrorOut) -> OpaquePointer? {
    guard let pointer else { return usage(error, "voxenc_stream_open: model is NULL") }
    let model = Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    let step = stepMilliseconds == 0 ? 480 : Int(stepMilliseconds)
    do {
        let session = try StreamingSession(embedder: model.embedder, stepMilliseconds: step)
        return OpaquePointer(Unmanaged.passRetained(StreamHandle(session: session, stepMilliseconds: step)).toOpaque())
    } catch let thrown {
        return store(error, thrown)
    }
}

@_cdecl("voxenc_stream_push")
public func voxenc_stream_push(_ pointer: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ count: Int,
                               _ sampleRate: Int32, _ error: ErrorOut) -> voxenc_status {
    guard let handle = stream(pointer) else {
        let _: Void? = usage(error, "voxenc_stream_push: stream is NULL")
        return VOXENC_ERROR_USAGE
    }
    guard samples != nil || count == 0 else {
        let _: Void? = usage(error, "voxenc_stream_push: samples is NULL")
        return VOXENC_ERROR_USAGE
    }
    handle.lock.lock()
    defer { handle.lock.unlock() }
    do {
            try handle.session.push(UnsafeBufferPointer(start: samples, count: count), sampleRate: Int(sampleRate))
            return VOXENC_OK
        } catch let thrown {
            let report = ErrorHandle(ErrorReport(thrown))
            error?.pointee = OpaquePointer(Unmanaged.passRetained(report).toOpaque())
            return report.status
    }
}

@_cdecl("voxenc_stream_pull")
public func voxenc_stream_pull(_ pointer: OpaquePointer?, _ error: ErrorOut) -> ResultPointer {
    guard let handle = stream(pointer) else { return usage(error, "voxenc_stream_pull: stream is NULL") }
    handle.lock.lock()
    defer { handle.lock.unlock() }
    let first = handle.session.rowsPulled
    return rows(handle.session.pull(), first: first, handle.session, error)
}

@_cdecl("voxenc_stream_flush")
public func voxenc_stream_flush(_ pointer: OpaquePointer?, _ error: ErrorOut) -> ResultPointer {
    guard let handle = stream(pointer) else { return usage(error, "voxenc_stream_flush: stream is NULL") }
    handle.lock.lock()
    defer { handle.lock.unlock() }
    let first = handle.session.rowsPulled
    handle.session.flush()
    return rows(handle.session.pull(), first: first, handle.session, error)
}

@_cdecl("voxenc_stream_finish")
public func voxenc_stream_finish(_ pointer: OpaquePointer?, _ error: ErrorOut) -> ResultPointer {
    guard let handle = stream(pointer) else { return usage(error, "voxenc_stream_finish: stream is NULL") }
    handle.lock.lock()
    defer { handle.lock.unlock() }
    let first = handle.session.rowsPulled
    do {
        return rows(try handle.session.finish(), first: first, handle.session, error)
    } catch let thrown {
        return store(error, thrown)
    }
}

@_cdecl("voxenc_stream_describe")
public func voxenc_stream_describe(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let handle = stream(pointer) else { return nil }
    handle.lock.lock()
    defer { handle.lock.unlock() }
    let s = handle.session
    handle.description = CString(JSON.line([
        "width": s.width, "rows_per_token": s.rowsPerToken, "frame_rate": s.embedder.output(s.kind).rowsPerSecond,
        "leading_pad_rows": s.leadingPadRows, "step_ms": handle.stepMilliseconds, "rows_pulled": s.rowsPulled,
        "finished": s.isFinished, "state_bytes": s.stateBytes, "kind": s.kind.rawValue,
    ]))
    return UnsafePointer(handle.description.pointer)
}

@_cdecl("voxenc_stream_free")
public func voxenc_stream_free(_ pointer: OpaquePointer?) {
    guard let pointer else { return }
    Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer(pointer)).release()
}
