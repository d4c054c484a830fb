import NIOCore
import NIOHTTP2

/// Raises the connection's inbound flow-control window from HTTP/2's initial 64 KiB to the
/// target right after the server's preface (SETTINGS_INITIAL_WINDOW_SIZE covers streams
/// only), so that the first large request on a connection does not wait a round trip; then
/// leaves the pipeline.
final class ConnectionWindowOpener: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let targetBytes: Int

    /// An opener to `targetBytes`.
    init(targetBytes: Int) {
        self.targetBytes = targetBytes
    }

    /// Sends the WINDOW_UPDATE (the HTTP/2 handler before this one has sent its preface).
    func channelActive(context: ChannelHandlerContext) {
        let increment = targetBytes - 65_535
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))), promise: nil)
        context.fireChannelActive()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
