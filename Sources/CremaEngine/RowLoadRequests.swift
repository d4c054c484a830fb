import Synchronization

/// Keys of stored rows that reads found only in RocksDB, by group, waiting for the writer to
/// bring the rows into memory; bounded, so that a flood of cold reads cannot grow it without
/// end (keys beyond the bound are dropped: those rows stay on the cold path until read again).
final class RowLoadRequests: Sendable {
    /// The most keys waiting, over every group.
    static let capacity = 262_144

    private let waiting: Mutex<(keys: [Set<[UInt8]>], count: Int)>

    /// No requests, for `groups` groups.
    init(groups: Int) {
        waiting = Mutex((Array(repeating: [], count: groups), 0))
    }

    /// Whether no key is waiting.
    var isEmpty: Bool { waiting.withLock { $0.count == 0 } }

    /// Adds `keys` of group `group`, as many as the bound allows.
    /// - Returns: Whether any key was new.
    func add(_ keys: some Sequence<[UInt8]>, group: Int) -> Bool {
        waiting.withLock { waiting in
            var added = false
            for key in keys where waiting.count < Self.capacity {
                if waiting.keys[group].insert(key).inserted {
                    waiting.count += 1
                    added = true
                }
            }
            return added
        }
    }

    /// Takes up to `limit` waiting keys, by group.
    func take(atMost limit: Int) -> [Set<[UInt8]>] {
        waiting.withLock { waiting in
            var taken: [Set<[UInt8]>] = Array(repeating: [], count: waiting.keys.count)
            var room = limit
            for group in waiting.keys.indices where room > 0 {
                while room > 0, let key = waiting.keys[group].popFirst() {
                    taken[group].insert(key)
                    room -= 1
                }
            }
            waiting.count -= limit - room
            return taken
        }
    }
}
