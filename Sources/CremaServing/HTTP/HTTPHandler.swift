import NIOCore
import NIOHTTP1

/// One HTTP connection's channel handler: gathers a request (head and bounded body), hands
/// it to `HTTPAPI` off the event loop, and writes the response back.
///
/// Sits behind NIO's `HTTPServerPipelineHandler`, so requests of one connection are answered
/// one at a time, in order, and a `ChannelShouldQuiesceEvent` closes the connection once the
/// response in progress is written. A body over the limit gets a 413 and a close.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Gathering the body of a request.
        case receiving(HTTPRequestHead, [UInt8])
        /// A request is being answered, or a refused request's remaining parts are dropped.
        case answering
    }

    private let api: HTTPAPI
    private let maximumBodyBytes: Int
    private var state = State.idle

    /// Creates the handler of one connection.
    init(api: HTTPAPI, maximumBodyBytes: Int) {
        self.api = api
        self.maximumBodyBytes = maximumBodyBytes
    }

    /// Gathers request parts; at the end of a request, answers it.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maximumBodyBytes {
                refuseTooLarge(context: context, head: head)
                return
            }
            state = .receiving(head, [])
        case .body(let buffer):
            guard case .receiving(let head, var body) = state else { return }
            state = .answering  // lets `body` be appended to without a copy
            guard body.count + buffer.readableBytes <= maximumBodyBytes else {
                refuseTooLarge(context: context, head: head)
                return
            }
            body.append(contentsOf: buffer.readableBytesView)
            state = .receiving(head, body)
        case .end:
            guard case .receiving(let head, let body) = state else { return }
            state = .answering
            let api = self.api
            context.eventLoop.makeFutureWithTask {
                await api.respond(method: head.method, uri: head.uri, body: body)
            }
            .assumeIsolated()
            .whenSuccess { response in
                self.state = .idle
                self.write(response, for: head, keepAlive: head.isKeepAlive, context: context)
            }
        }
    }

    private func refuseTooLarge(context: ChannelHandlerContext, head: HTTPRequestHead) {
        state = .answering
        let error = HTTPError(.payloadTooLarge, "request body larger than \(maximumBodyBytes) bytes")
        write(.error(error), for: head, keepAlive: false, context: context)
    }

    private func write(_ response: HTTPResponse, for request: HTTPRequestHead, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
