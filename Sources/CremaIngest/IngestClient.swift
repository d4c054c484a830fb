import CremaEngine
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends NDJSON lines (a file, stdin or any byte chunks) through the ingest socket, with an
/// optional producer hello, reading acks and error lines while it writes. `crema ingest` uses it.
public struct IngestClient: Sendable {
    /// How far a transfer has come; reported after each chunk sent and each line received.
    public struct Progress: Sendable, Equatable {
        /// Bytes written to the socket (the hello excluded).
        public var bytesSent = 0
        /// Lines written (the hello excluded; an unterminated last line counts once sent).
        public var linesSent = 0
        /// The highest line the server has acknowledged.
        public var acknowledgedLine = 0
        /// The totals of the latest ack.
        public var totals = IngestTotals()
        /// Error lines received so far.
        public var errorCount = 0
    }

    /// One error line from the server; line 0 is a connection-level error.
    public struct LineError: Sendable, Equatable {
        /// The line the error is about.
        public var line: Int
        /// The server's message.
        public var message: String
    }

    /// The outcome of a transfer.
    public struct Summary: Sendable, Equatable {
        /// Lines written (the hello excluded).
        public var linesSent: Int
        /// The highest line acknowledged (equal to `linesSent` when everything was settled).
        public var acknowledgedLine: Int
        /// The connection's final totals.
        public var totals: IngestTotals
        /// The producer's `last_seq` before this transfer, when a hello was sent.
        public var lastSequence: UInt64?
        /// Every error line, in the order received.
        public var errors: [LineError]
    }

    private let address: IngestAddress
    private let producer: String?
    private let eventLoopGroup: any EventLoopGroup

    /// Creates a client for the server at `address`; with a `producer`, a hello is sent first.
    public init(address: IngestAddress, producer: String? = nil, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.address = address
        self.producer = producer
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sends the file at `path`, or standard input when `path` is nil.
    /// - Throws: `IngestError` when the input cannot be read, the connection fails, or the
    ///   server refuses the connection or closes it before acknowledging every line.
    public func send(path: String?, progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Summary {
        let descriptor: Int32
        if let path {
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                throw IngestError(code: .connectionFailed, message: "cannot open \(path): \(String(cString: strerror(errno)))")
            }
        } else {
            descriptor = STDIN_FILENO
        }
        defer { if path != nil { close(descriptor) } }
        return try await send(FileChunks(descriptor: descriptor), progress: progress)
    }

    /// Sends the bytes of `chunks`, in order, as one stream of lines.
    /// - Throws: `IngestError` when the connection fails, or the server refuses the
    ///   connection or closes it before acknowledging every line; errors of `chunks`.
    public func send<Chunks: AsyncSequence & Sendable>(
        _ chunks: Chunks, progress: @escaping @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Summary where Chunks.Element == [UInt8] {
        let channel = try await connect()
        let state = TransferBox()
        let producer = self.producer
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        if let producer {
                            try await outbound.write(ByteBuffer(string: "{\"producer\": \(ReplyLine.quoted(producer))}\n"))
                        }
                        for try await chunk in chunks where !chunk.isEmpty {
                            try await outbound.write(ByteBuffer(bytes: chunk))
                            progress(state.withLock { $0.sent(chunk) })
                        }
                        progress(state.withLock { $0.finishSending() })
                        outbound.finish()
                    } catch {
                        // Ending the output lets the server settle what it has and close.
                        outbound.finish()
                        // A refused connection surfaces as a write error; the server's reason is reported instead.
                        if state.withLock({ $0.refusal }) == nil { throw error }
                    }
                }
                var carry: [UInt8] = []
                for try await buffer in inbound {
                    carry.append(contentsOf: buffer.readableBytesView)
                    while let newline = carry.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(carry[..<newline])
                        carry.removeSubrange(...newline)
                        progress(state.withLock { $0.record(Reply(line: line)) })
                    }
                }
                try await group.waitForAll()
            }
        }
        let final = state.withLock { $0 }
        if let refusal = final.refusal {
            throw IngestError(code: .connectionRefused, message: "server refused the connection: \(refusal)")
        }
        guard final.progress.acknowledgedLine >= final.progress.linesSent else {
            throw IngestError(
                code: .connectionRefused,
                message: "server closed the connection after acknowledging \(final.progress.acknowledgedLine) of \(final.progress.linesSent) lines")
        }
        return Summary(
            linesSent: final.progress.linesSent, acknowledgedLine: final.progress.acknowledgedLine,
            totals: final.progress.totals, lastSequence: final.lastSequence, errors: final.errors)
    }

    private func connect() async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let bootstrap = ClientBootstrap(group: eventLoopGroup).channelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(isOutboundHalfClosureEnabled: true))
            }
        }
        do {
            switch address {
            case .tcp(let host, let port):
                return try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            case .unix(let path):
                return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
            }
        } catch {
            throw IngestError(code: .connectionFailed, message: "cannot connect to \(address): \(error)")
        }
    }
}

/// A client's transfer state, shared by its writing and reading halves.
private final class TransferBox: Sendable {
    private let state = Mutex(TransferState())

    func withLock<Result: Sendable>(_ body: (inout TransferState) -> Result) -> Result {
        state.withLock { body(&$0) }
    }
}

/// What a client has sent and received so far.
private struct TransferState: Sendable {
    var progress = IngestClient.Progress()
    var lastSequence: UInt64?
    var errors: [IngestClient.LineError] = []
    var refusal: String?
    var endsWithNewline = true

    mutating func sent(_ chunk: [UInt8]) -> IngestClient.Progress {
        progress.bytesSent += chunk.count
        progress.linesSent += chunk.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        endsWithNewline = chunk.last == UInt8(ascii: "\n")
        return progress
    }

    mutating func finishSending() -> IngestClient.Progress {
        if !endsWithNewline { progress.linesSent += 1 }
        endsWithNewline = true
        return progress
    }

    mutating func record(_ reply: Reply?) -> IngestClient.Progress {
        switch reply {
        case .ack(let line, let totals)?:
            progress.acknowledgedLine = line
            progress.totals = totals
        case .error(let line, let message)?:
            errors.append(IngestClient.LineError(line: line, message: message))
            progress.errorCount += 1
            if line == 0 { refusal = refusal ?? message }
        case .hello(let lastSequence)?:
            self.lastSequence = lastSequence
        case nil:
            break
        }
        return progress
    }
}

/// One line written by the ingest server, parsed.
enum Reply: Equatable {
    /// `{"ack": N, ...}`.
    case ack(line: Int, totals: IngestTotals)
    /// `{"error": "...", "line": N}`.
    case error(line: Int, message: String)
    /// `{"producer": "...", "last_seq": N}`.
    case hello(lastSequence: UInt64)

    /// Parses a reply line; nil when it is none of the above.
    init?(line: [UInt8]) {
        var strings: [String: String] = [:]
        var integers: [String: Int64] = [:]
        let isObject: Bool = line.withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes)
            do throws(EventDecodingError) {
                guard firstInvalidUTF8Offset(in: bytes) == nil, scanner.consume(UInt8(ascii: "{")) else { return false }
                if scanner.consume(UInt8(ascii: "}")) { return true }
                repeat {
                    let key = scanner.string(try scanner.scanString())
                    try scanner.expect(UInt8(ascii: ":"), "':'")
                    switch scanner.peekAfterWhitespace() {
                    case UInt8(ascii: "\""):
                        strings[key] = scanner.string(try scanner.scanString())
                    case let byte? where byte == UInt8(ascii: "-") || byte &- UInt8(ascii: "0") < 10:
                        let token = try scanner.scanNumber()
                        if token.isInteger, let value = scanner.int64(token) { integers[key] = value }
                    default:
                        try scanner.skipValue()
                    }
                } while scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"), "'}'")
                return true
            } catch {
                return false
            }
        }
        guard isObject else { return nil }
        if let line = integers["ack"] {
            self = .ack(line: Int(line), totals: IngestTotals(
                accepted: Int(integers["accepted"] ?? 0), rejected: Int(integers["rejected"] ?? 0),
                duplicates: Int(integers["duplicates"] ?? 0), late: Int(integers["late"] ?? 0)))
        } else if let message = strings["error"] {
            self = .error(line: Int(integers["line"] ?? 0), message: message)
        } else if strings["producer"] != nil, let lastSequence = integers["last_seq"], lastSequence >= 0 {
            self = .hello(lastSequence: UInt64(lastSequence))
        } else {
            return nil
        }
    }
}

/// The chunks of a file descriptor, read on NIO's thread pool so no event loop or
/// cooperative thread blocks.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]

    /// The descriptor to read until end of file; the caller closes it.
    let descriptor: Int32
    /// The most bytes read at once.
    var chunkSize = 1 << 16

    /// Reads the next chunk.
    struct AsyncIterator: AsyncIteratorProtocol {
        let descriptor: Int32
        let chunkSize: Int

        mutating func next() async throws -> [UInt8]? {
            let descriptor = self.descriptor
            let chunkSize = self.chunkSize
            let chunk: [UInt8] = try await NIOThreadPool.singleton.runIfActive {
                var chunk = [UInt8](repeating: 0, count: chunkSize)
                while true {
                    let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, chunkSize) }
                    if count >= 0 {
                        chunk.removeSubrange(count...)
                        return chunk
                    }
                    guard errno == EINTR else {
                        throw IngestError(code: .connectionFailed, message: "cannot read input: \(String(cString: strerror(errno)))")
                    }
                }
            }
            return chunk.isEmpty ? nil : chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(descriptor: descriptor, chunkSize: chunkSize)
    }
}
