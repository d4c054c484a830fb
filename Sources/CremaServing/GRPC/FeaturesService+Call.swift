import CremaEngine
import GRPCCore
import NIOCore
import NIOPosix

extension FeaturesService {
    /// Answers one `Get` (its text ids decoded apart, see ``GetRequestDecoder``) on the thread pool, off `eventLoop`, recording the number of ids and
    /// the call's status and latency; the future completes on `eventLoop` and never fails.
    ///
    /// Errors are `answer(_:)`'s `RPCError`s, and `UNAVAILABLE` when the thread pool has
    /// stopped (the server is shutting down).
    func respond(
        to request: Crema_V1_GetRequest, textIDs: PackedTexts, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Result<ByteBuffer, RPCError>> {
        let start = ContinuousClock.now
        let metrics = self.metrics
        metrics?.recordBatchSize(route: "grpc Features/Get", ids: request.ids.count + textIDs.count + request.numberIds.count)
        return threadPool.runIfActive(eventLoop: eventLoop) { try self.answer(request, textIDs: textIDs) }
            .map { response in
                metrics?.recordRPC(method: "Features/Get", code: "ok", duration: .now - start)
                return .success(response)
            }
            .recover { error in
                guard let error = error as? RPCError else {
                    metrics?.recordRPC(method: "Features/Get", code: "unavailable", duration: .now - start)
                    return .failure(RPCError(code: .unavailable, message: "the server is shutting down"))
                }
                metrics?.recordRPC(method: "Features/Get", code: "\(error.code)", duration: .now - start)
                return .failure(error)
            }
    }
}
