import NIOCore
import ServiceLifecycle
import Synchronization

/// A server's bound address (or the failure to bind), awaited by callers before `run()` has
/// bound it: `value()` waits until `settle(_:)`; only the first settle counts.
package final class ListenerBinding<Value: Sendable>: Sendable {
    private enum State {
        case pending([CheckedContinuation<Value, any Error>])
        case settled(Result<Value, any Error>)
    }

    private let state = Mutex(State.pending([]))

    /// An unsettled binding.
    package init() {}

    /// The bound value, once settled.
    /// - Throws: the error the binding was settled with.
    package func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let settled = state.withLock { state -> Result<Value, any Error>? in
                switch state {
                case .pending(var waiters):
                    waiters.append(continuation)
                    state = .pending(waiters)
                    return nil
                case .settled(let result):
                    return result
                }
            }
            if let settled { continuation.resume(with: settled) }
        }
    }

    /// Settles the binding and wakes everyone waiting; later calls do nothing.
    package func settle(_ result: Result<Value, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, any Error>] in
            guard case .pending(let waiters) = state else { return [] }
            state = .settled(result)
            return waiters
        }
        waiters.forEach { $0.resume(with: result) }
    }
}

/// Waits until `channel` (a listening socket) closes, calling `beginShutdown` when the task is
/// cancelled or the service group shuts down gracefully, and once more when it returns (it
/// must tolerate repeated calls).
package func serveUntilShutdown(_ channel: any Channel, beginShutdown: @escaping @Sendable () -> Void) async {
    await withGracefulShutdownHandler {
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            beginShutdown()
        }
    } onGracefulShutdown: {
        beginShutdown()
    }
    beginShutdown()
}
