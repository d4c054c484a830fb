import CremaEngine
import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import SwiftProtobuf

/// One HTTP/2 stream's channel handler: feeds the frames to a ``GRPCUnaryStateMachine`` and
/// carries out its actions — decodes the request (``GetRequestDecoder``), answers it through
/// ``FeaturesService/respond(to:textIDs:on:)`` (off the event loop) and writes the response, or
/// writes the refusal.
///
/// A success is HEADERS (`:status: 200`, `content-type: application/grpc`), one DATA frame
/// of the prefixed `GetResponse` (HTTP/2 splits it by the peer's frame size), and trailers
/// `grpc-status: 0` with END_STREAM.
final class GRPCStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private static let responseHeaders: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]
    private static let okTrailers: HPACKHeaders = ["grpc-status": "0"]

    private var call: GRPCUnaryStateMachine
    private let service: FeaturesService
    private var deadline: Scheduled<Void>?

    /// Creates the handler of one stream.
    init(service: FeaturesService, maximumRequestBytes: Int) {
        self.service = service
        self.call = GRPCUnaryStateMachine(maximumMessageBytes: maximumRequestBytes)
    }

    /// Feeds HEADERS and DATA to the call; other frames are the HTTP/2 handler's business.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            perform(call.receiveHeaders(headers.headers, endStream: headers.endStream), context: context)
        case .data(let data):
            guard case .byteBuffer(let buffer) = data.data else { return }
            perform(call.receiveData(buffer, endStream: data.endStream), context: context)
        default:
            break
        }
    }

    /// The stream is closed (done, or reset by the client): an answer still being computed is dropped.
    func channelInactive(context: ChannelHandlerContext) {
        call.streamClosed()
        deadline?.cancel()
        context.fireChannelInactive()
    }

    /// A stream error: the stream is closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        call.streamClosed()
        context.close(promise: nil)
    }

    private func perform(_ action: GRPCUnaryStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .startDeadline(let timeout):
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.perform(self.call.deadlineExpired(), context: context)
            }
        case .answer(let message):
            answer(message, context: context)
        case .refuse(let refusal, let resetsStream):
            refuse(refusal, resetsStream: resetsStream, context: context)
        }
    }

    private func answer(_ message: ByteBuffer, context: ChannelHandlerContext) {
        let decoded: (request: Crema_V1_GetRequest, textIDs: PackedTexts)
        do {
            decoded = try GetRequestDecoder.decode(message)
        } catch {
            _ = call.beginResponse()
            refuse(.status(error.code, error.message), resetsStream: false, context: context)
            return
        }
        service.respond(to: decoded.request, textIDs: decoded.textIDs, on: context.eventLoop).assumeIsolated().whenSuccess { result in
            guard self.call.beginResponse() else { return }
            switch result {
            case .success(let response):
                self.write(response, context: context)
            case .failure(let error):
                self.refuse(.status(error.code, error.message), resetsStream: false, context: context)
            }
        }
    }

    private func write(_ message: ByteBuffer, context: ChannelHandlerContext) {
        deadline?.cancel()
        context.write(wrapOutboundOut(.headers(.init(headers: Self.responseHeaders))), promise: nil)
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(message)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: Self.okTrailers, endStream: true))), promise: nil)
    }

    /// Writes a trailers-only response; then, if the client is still sending, resets the
    /// stream with NO_ERROR once the response is out.
    private func refuse(_ refusal: GRPCUnaryStateMachine.Refusal, resetsStream: Bool, context: ChannelHandlerContext) {
        deadline?.cancel()
        let headers = wrapOutboundOut(.headers(.init(headers: refusal.headers, endStream: true)))
        guard resetsStream else {
            context.writeAndFlush(headers, promise: nil)
            return
        }
        context.writeAndFlush(headers).assumeIsolated().whenSuccess {
            context.writeAndFlush(self.wrapOutboundOut(.rstStream(.noError)), promise: nil)
        }
    }
}
