// A WebSocket client at the frame level (RFC 6455 §5) over the harness's blocking TCP client (RawClient), for what
// client libraries hide: it sends control frames of its choosing and reports every frame it gets, pongs included.
// Blocking calls with a 20 s receive timeout (a lost frame fails the test): run it on a thread of its own, not on the
// cooperative pool.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class RawWebSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// A server frame: a control frame as it came, or a whole data message (fragments joined).
    struct Frame {
        let opcode: UInt8
        let payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
    }

    static let text: UInt8 = 0x1, close: UInt8 = 0x8, ping: UInt8 = 0x9, pong: UInt8 = 0xA

    private let connection: RawClient
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port` and completes the upgrade handshake for `path` (status 101, or a Failure with
    /// the response's head).
    init(port: Int, path: String) throws {
        connection = try RawClient(port: port)
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(connection.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try send(Array(("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        let end = Array("\r\n\r\n".utf8)
        var headLength: Int? = nil
        while headLength == nil {
            try receiveMore()
            headLength = pending.indices.first { pending[$0...].starts(with: end) }.map { $0 + end.count }
        }
        let head = String(decoding: pending[..<headLength!], as: UTF8.self)
        pending.removeFirst(headLength!)
        guard head.hasPrefix("HTTP/1.1 101") else { throw Failure("no upgrade: \(head)") }
    }

    deinit { connection.close() }

    /// A masked client frame with FIN set.
    static func frame(_ opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x80 | opcode]
        let count = payload.count
        if count < 126 {
            out.append(0x80 | UInt8(count))
        } else if count <= 0xFFFF {
            out += [0x80 | 126, UInt8(count >> 8), UInt8(count & 0xFF)]
        } else {
            out.append(0x80 | 127)
            out += (0..<8).reversed().map { UInt8((count >> ($0 * 8)) & 0xFF) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        out += mask
        out += payload.enumerated().map { $1 ^ mask[$0 % 4] }
        return out
    }

    /// Writes `bytes` whole.
    func send(_ bytes: [UInt8]) throws { try connection.send(bytes) }

    /// The next control frame or whole data message from the server.
    func next() throws -> Frame {
        var message: (opcode: UInt8, payload: [UInt8])? = nil
        while true {
            try need(2)
            let fin = pending[0] & 0x80 != 0, opcode = pending[0] & 0x0F
            var length = Int(pending[1] & 0x7F), header = 2
            if length == 126 {
                try need(4)
                (length, header) = (Int(pending[2]) << 8 | Int(pending[3]), 4)
            } else if length == 127 {
                try need(10)
                (length, header) = ((2..<10).reduce(0) { $0 << 8 | Int(pending[$1]) }, 10)
            }
            guard pending[1] & 0x80 == 0 else { throw Failure("a masked frame from the server") }
            try need(header + length)
            let payload = Array(pending[header..<(header + length)])
            pending.removeFirst(header + length)
            if opcode >= 0x8 { return Frame(opcode: opcode, payload: payload) }  // control frames come between fragments
            if opcode != 0 { message = (opcode, []) }
            guard message != nil else { throw Failure("a continuation frame with no message") }
            message!.payload += payload
            if fin { return Frame(opcode: message!.opcode, payload: message!.payload) }
        }
    }

    private func need(_ count: Int) throws {
        while pending.count < count { try receiveMore() }
    }

    private func receiveMore() throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let received = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
        guard received > 0 else { throw Failure("the connection closed or timed out") }
        pending += buffer[..<received]
    }
}
