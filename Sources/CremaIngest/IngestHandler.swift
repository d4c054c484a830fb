import CremaEngine
import Logging
import NIOCore

/// Asks a connection's handler to finish: settle what was decoded, then close.
struct IngestDrainEvent: Sendable {}

/// Carries out the actions of one connection's `IngestConnection` on its channel: writes
/// lines, submits batches to the sink (off the event loop), and withholds reads for backpressure.
final class IngestHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var connection: IngestConnection
    private let sink: any IngestSink
    private let counters: IngestCounters
    private let logger: Logger
    private var isReadingPaused = false
    private var hasWithheldRead = false
    private var countedLines = 0
    private var countedRejectedLines = 0
    private var countedAcks = 0
    /// The last write, so a close waits until everything written has gone out.
    private var lastWrite: EventLoopFuture<Void>?

    /// Creates the handler of a new connection.
    init(connection: IngestConnection, sink: any IngestSink, counters: IngestCounters, logger: Logger) {
        self.connection = connection
        self.sink = sink
        self.counters = counters
        self.logger = logger
    }

    /// Logs the new connection.
    func channelActive(context: ChannelHandlerContext) {
        logger.debug("ingest connection opened", metadata: ["remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
        context.fireChannelActive()
    }

    /// Feeds received bytes to the connection.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        counters.bytes.add(buffer.readableBytes, ordering: .relaxed)
        let actions = buffer.withUnsafeReadableBytes { connection.receive($0) }
        perform(actions, context: context)
    }

    /// Ends a read burst: the connection submits what accumulated.
    func channelReadComplete(context: ChannelHandlerContext) {
        perform(connection.readComplete(), context: context)
        context.fireChannelReadComplete()
    }

    /// Handles the end of input (half-close) and the server's drain request.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            perform(connection.inputEnded(), context: context)
        case is IngestDrainEvent:
            perform(connection.drain(), context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Stops or resumes reading as the socket's output backs up or clears.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        perform(connection.writabilityChanged(isWritable: context.channel.isWritable), context: context)
        context.fireChannelWritabilityChanged()
    }

    /// Logs the closed connection.
    func channelInactive(context: ChannelHandlerContext) {
        logger.debug("ingest connection closed", metadata: ["lines": "\(connection.lineCount)"])
        context.fireChannelInactive()
    }

    /// Closes the connection on a socket error.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("ingest connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Withholds reads while the connection applies backpressure.
    func read(context: ChannelHandlerContext) {
        if isReadingPaused {
            hasWithheldRead = true
        } else {
            context.read()
        }
    }

    /// Adds what the connection counted since the last call to the server's counters.
    private func countLines() {
        let lines = connection.lineCount
        if lines > countedLines {
            counters.lines.add(lines - countedLines, ordering: .relaxed)
            countedLines = lines
        }
        let rejectedLines = connection.rejectedLineCount
        if rejectedLines > countedRejectedLines {
            counters.rejectedLines.add(rejectedLines - countedRejectedLines, ordering: .relaxed)
            countedRejectedLines = rejectedLines
        }
        let acks = connection.ackCount
        if acks > countedAcks {
            counters.acks.add(acks - countedAcks, ordering: .relaxed)
            countedAcks = acks
        }
    }

    /// Carries out `actions`, then counts what they settled.
    private func perform(_ actions: [IngestConnection.Action], context: ChannelHandlerContext) {
        defer { countLines() }
        var hasWritten = false
        for action in actions {
            switch action {
            case .write(let line):
                var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 1)
                buffer.writeString(line)
                buffer.writeInteger(UInt8(ascii: "\n"))
                lastWrite = context.write(wrapOutboundOut(buffer))
                hasWritten = true
            case .submit(let batch):
                let promise = context.eventLoop.makePromise(of: IngestOutcome.self)
                promise.futureResult.assumeIsolated().whenComplete { result in
                    // The batch is freed here, on the event loop, not by the writer.
                    withExtendedLifetime(batch) {}
                    switch result {
                    case .success(let outcome): self.perform(self.connection.batchCompleted(outcome), context: context)
                    case .failure(let error): self.perform(self.connection.batchFailed("\(error)"), context: context)
                    }
                }
                // Completed on the event loop's own turn: the writer answers from its thread, an
                // engine shutting down at once, and no answer may run inside the actions at hand.
                let eventLoop = context.eventLoop
                sink.submit(batch) { result in eventLoop.execute { promise.completeWith(result) } }
            case .lookUpProducer(let name):
                let result = Result { try sink.lastSequence(of: name) }
                // Answered on the event loop's next turn, after the actions at hand.
                context.eventLoop.assumeIsolated().execute {
                    switch result {
                    case .success(let sequence): self.perform(self.connection.producerLookedUp(lastSequence: sequence), context: context)
                    case .failure(let error): self.perform(self.connection.producerLookupFailed("\(error)"), context: context)
                    }
                }
            case .stopReading:
                isReadingPaused = true
            case .resumeReading:
                isReadingPaused = false
                if hasWithheldRead {
                    hasWithheldRead = false
                    context.read()
                }
            case .close:
                context.flush()
                if let lastWrite {
                    lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                } else {
                    context.close(promise: nil)
                }
                return
            }
        }
        if hasWritten { context.flush() }
    }
}
