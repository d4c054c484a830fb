import NIOCore
import Synchronization

/// A server's open connections, so that stopping can reach every one — gracefully
/// (`ChannelShouldQuiesceEvent`: HTTP/1 closes after the response in progress, HTTP/2 sends
/// GOAWAY and closes when its streams are done) or at once — and wait until all have closed.
final class ConnectionRegistry: Sendable {
    /// How the server stops.
    enum Stop: Sendable {
        /// Let the RPCs in progress finish.
        case gracefully
        /// Close every connection now.
        case immediately
    }

    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var stop: Stop?
        var allClosed: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Tracks a new connection until it closes; one arriving after `stop` (it has no RPC yet)
    /// is closed at once.
    func add(_ channel: any Channel) {
        let identifier = ObjectIdentifier(channel)
        let isStopping = state.withLock { state in
            state.open[identifier] = channel
            return state.stop != nil
        }
        channel.closeFuture.whenComplete { _ in
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.open[identifier] = nil
                guard state.open.isEmpty else { return [] }
                defer { state.allClosed = [] }
                return state.allClosed
            }
            waiters.forEach { $0.resume() }
        }
        if isStopping { channel.close(promise: nil) }
    }

    /// Stops every connection, now and arriving later; a graceful stop may be followed by an
    /// immediate one, not the other way round, and each connection is quiesced only once.
    func stop(_ stop: Stop) {
        let channels = state.withLock { state -> [any Channel] in
            guard state.stop != .immediately, state.stop != stop else { return [] }
            state.stop = stop
            return Array(state.open.values)
        }
        channels.forEach { Self.apply(stop, to: $0) }
    }

    /// Returns once no connection is open.
    func waitUntilAllClosed() async {
        await withCheckedContinuation { continuation in
            let isEmpty = state.withLock { state in
                guard !state.open.isEmpty else { return true }
                state.allClosed.append(continuation)
                return false
            }
            if isEmpty { continuation.resume() }
        }
    }

    private static func apply(_ stop: Stop, to channel: any Channel) {
        switch stop {
        case .gracefully: channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        case .immediately: channel.close(promise: nil)
        }
    }
}
