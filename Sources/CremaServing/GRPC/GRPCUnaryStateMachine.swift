import GRPCCore
import NIOCore
import NIOHPACK

/// The server side of one unary gRPC call on one HTTP/2 stream, as a value
/// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): it checks the request
/// headers, gathers the one length-prefixed request message, and says what to do next;
/// ``GRPCStreamHandler`` carries the actions out.
///
/// A request that is not POST gets HTTP 405 and one whose `content-type` is not
/// `application/grpc[+…|;…]` HTTP 415. Everything else ends with gRPC status:
/// another path is `UNIMPLEMENTED`, a `grpc-encoding` other than `identity` is
/// `UNIMPLEMENTED`, a malformed `grpc-timeout` or a message with the compressed flag set is
/// `INTERNAL`, a message longer than the limit is `RESOURCE_EXHAUSTED` as soon as its
/// prefix arrives (it is not buffered), no message or a second one is `UNIMPLEMENTED`, and a
/// stream that ends inside a message is `INTERNAL`.
struct GRPCUnaryStateMachine {
    /// The one path served.
    static let path = "/crema.v1.Features/Get"

    /// A response without a message: an HTTP error for a request that is not gRPC, or a gRPC
    /// status in a trailers-only response.
    enum Refusal: Hashable, Sendable {
        /// Not a gRPC request: only an HTTP status (405 or 415).
        case http(status: Int)
        /// A gRPC status other than OK, with a message for the caller.
        case status(RPCError.Code, String)
    }

    /// What the stream handler does after an input.
    enum Action: Equatable {
        /// Nothing (wait for more).
        case none
        /// Fail the call with `DEADLINE_EXCEEDED` after this long unless it has ended
        /// (`grpc-timeout`).
        case startDeadline(TimeAmount)
        /// The client has sent the whole request: answer these message bytes (without the
        /// 5-byte prefix), then call ``beginResponse()``.
        case answer(ByteBuffer)
        /// End the call with `refusal`; when `resetsStream`, the client is still sending, so
        /// follow the response with RST_STREAM(NO_ERROR) to stop it (RFC 9113, 8.1).
        case refuse(Refusal, resetsStream: Bool)
    }

    private enum State {
        /// Waiting for the request headers.
        case idle
        /// The headers are accepted; the message bytes so far, prefix included.
        case receiving(ByteBuffer?)
        /// The client has finished; the answer is being computed.
        case answering
        /// The response is written (or being written), or the stream is gone: inputs are ignored.
        case closed
    }

    private var state = State.idle
    /// The largest request message accepted, in bytes, prefix excluded.
    let maximumMessageBytes: Int

    /// A call waiting for its request headers.
    init(maximumMessageBytes: Int) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// A HEADERS frame arrived: the request headers, or the client's trailers.
    mutating func receiveHeaders(_ headers: HPACKHeaders, endStream: Bool) -> Action {
        switch state {
        case .idle:
            if let refusal = Self.refusal(of: headers) {
                return refuse(refusal, isClientDone: endStream)
            }
            var timeout: TimeAmount?
            if let text = headers.first(name: "grpc-timeout") {
                guard let parsed = Self.timeout(text) else {
                    return refuse(.status(.internalError, "malformed grpc-timeout \"\(text)\""), isClientDone: endStream)
                }
                timeout = parsed
            }
            state = .receiving(nil)
            if endStream {
                return endOfRequest(nil)
            }
            return timeout.map(Action.startDeadline) ?? .none
        case .receiving(let bytes):
            // Trailers from the client end the request; HTTP/2 has them carry END_STREAM.
            return endOfRequest(bytes)
        case .answering, .closed:
            return .none
        }
    }

    /// A DATA frame arrived.
    /// - Complexity: O(bytes in `buffer`) when the message spans frames (they are gathered
    ///   into one buffer, sized once from the prefix), O(1) otherwise.
    mutating func receiveData(_ buffer: ByteBuffer, endStream: Bool) -> Action {
        guard case .receiving(let gathered) = state else { return .none }
        state = .closed  // leaves `gathered` the only owner of its bytes, so appending does not copy them
        var bytes: ByteBuffer
        if var earlier = consume gathered {
            earlier.writeImmutableBuffer(buffer)
            bytes = consume earlier
        } else {
            bytes = buffer
        }
        if bytes.readableBytes >= 5 {
            let flags = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self)!
            let length = Int(bytes.getInteger(at: bytes.readerIndex + 1, as: UInt32.self)!)
            if flags & 1 != 0 {
                return refuse(.status(.internalError, "the request message is compressed but grpc-encoding is identity"), isClientDone: endStream)
            }
            if flags != 0 {
                return refuse(.status(.internalError, "the request message has unknown flags \(flags)"), isClientDone: endStream)
            }
            if length > maximumMessageBytes {
                return refuse(
                    .status(.resourceExhausted, "the request message of \(length) bytes is larger than the limit of \(maximumMessageBytes) bytes"),
                    isClientDone: endStream
                )
            }
            if bytes.readableBytes > 5 + length {
                return refuse(.status(.unimplemented, "Features/Get takes exactly one request message; more than one was sent"), isClientDone: endStream)
            }
            if !endStream, bytes.writableBytes < 5 + length - bytes.readableBytes {
                bytes.reserveCapacity(minimumWritableBytes: 5 + length - bytes.readableBytes)
            }
        }
        if endStream {
            return endOfRequest(bytes)
        }
        state = .receiving(bytes)
        return .none
    }

    /// The answer is ready: whether to write it (false when the call has already ended, by
    /// its deadline or a reset stream).
    mutating func beginResponse() -> Bool {
        guard case .answering = state else { return false }
        state = .closed
        return true
    }

    /// The `grpc-timeout` of the call has passed.
    mutating func deadlineExpired() -> Action {
        switch state {
        case .receiving:
            return refuse(.status(.deadlineExceeded, "the deadline passed before the request arrived"), isClientDone: false)
        case .answering:
            return refuse(.status(.deadlineExceeded, "the deadline passed before the answer was ready"), isClientDone: true)
        case .idle, .closed:
            return .none
        }
    }

    /// The stream is closed (reset by the client, or the connection is gone): nothing more is written.
    mutating func streamClosed() {
        state = .closed
    }

    private mutating func endOfRequest(_ bytes: ByteBuffer?) -> Action {
        guard let bytes, bytes.readableBytes > 0 else {
            return refuse(.status(.unimplemented, "Features/Get takes exactly one request message; none was sent"), isClientDone: true)
        }
        guard bytes.readableBytes >= 5,
              let length = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt32.self),
              bytes.readableBytes == 5 + Int(length)
        else {
            return refuse(.status(.internalError, "the request stream ended inside a message"), isClientDone: true)
        }
        state = .answering
        return .answer(bytes.getSlice(at: bytes.readerIndex + 5, length: Int(length))!)
    }

    private mutating func refuse(_ refusal: Refusal, isClientDone: Bool) -> Action {
        state = .closed
        return .refuse(refusal, resetsStream: !isClientDone)
    }

    /// Why request headers are refused, if they are.
    private static func refusal(of headers: HPACKHeaders) -> Refusal? {
        guard headers.first(name: ":method") == "POST" else {
            return .http(status: 405)
        }
        guard let contentType = headers.first(name: "content-type"), isGRPC(contentType: contentType) else {
            return .http(status: 415)
        }
        let path = headers.first(name: ":path") ?? ""
        guard path == Self.path else {
            return .status(.unimplemented, "unknown method \(path); this server serves \(Self.path)")
        }
        if let encoding = headers.first(name: "grpc-encoding"), encoding != "identity" {
            return .status(.unimplemented, "grpc-encoding \(encoding) is not supported; see grpc-accept-encoding")
        }
        return nil
    }

    /// Whether a `content-type` is gRPC's: `application/grpc`, alone or followed by `+` (a
    /// message format) or `;` (parameters) — not `application/grpc-web`.
    private static func isGRPC(contentType: String) -> Bool {
        let prefix = "application/grpc"
        guard contentType.hasPrefix(prefix) else { return false }
        let rest = contentType.utf8.dropFirst(prefix.utf8.count)
        return rest.first == nil || rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: ";")
    }

    /// A `grpc-timeout` value (1 to 8 digits and a unit: H, M, S, m, u, n), or nil if malformed.
    static func timeout(_ text: String) -> TimeAmount? {
        let utf8 = Array(text.utf8)
        guard (2...9).contains(utf8.count), let unit = utf8.last else { return nil }
        var value: Int64 = 0
        for byte in utf8.dropLast() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .hours(value)
        case UInt8(ascii: "M"): return .minutes(value)
        case UInt8(ascii: "S"): return .seconds(value)
        case UInt8(ascii: "m"): return .milliseconds(value)
        case UInt8(ascii: "u"): return .microseconds(value)
        case UInt8(ascii: "n"): return .nanoseconds(value)
        default: return nil
        }
    }
}

extension GRPCUnaryStateMachine.Refusal {
    /// The response's only HEADERS frame (sent with END_STREAM): `:status` and, for a gRPC
    /// status, `content-type`, `grpc-status`, the percent-encoded `grpc-message` and
    /// `grpc-accept-encoding`.
    var headers: HPACKHeaders {
        switch self {
        case .http(let status):
            return [":status": String(status)]
        case .status(let code, let message):
            var headers: HPACKHeaders = [
                ":status": "200", "content-type": "application/grpc", "grpc-status": String(code.rawValue),
                "grpc-accept-encoding": "identity",
            ]
            if !message.isEmpty {
                headers.add(name: "grpc-message", value: Self.percentEncoded(message))
            }
            return headers
        }
    }

    /// `text` as `grpc-message` carries it: its UTF-8 bytes, those outside space…`~` and `%`
    /// itself written as `%XX`.
    /// - Complexity: O(bytes of `text`).
    static func percentEncoded(_ text: String) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if (0x20...0x7E).contains(byte), byte != UInt8(ascii: "%") {
                encoded.append(byte)
            } else {
                encoded += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}
