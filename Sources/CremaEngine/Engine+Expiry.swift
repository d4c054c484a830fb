import CremaSpec
import CremaStorage

extension Engine {
    /// Removes from memory the clean rows expired at the server clock, at most once per
    /// `checkpointInterval`; RocksDB's copies go at compaction (`expiredRowFilter`). Reads and
    /// events treat an expired row as absent meanwhile, so when it goes changes no answer.
    /// Writer thread.
    func sweepExpiredRowsIfDue() {
        guard ContinuousClock.now - lastExpirySweep >= configuration.checkpointInterval else { return }
        lastExpirySweep = .now
        let now = configuration.clock()
        var removed = 0
        stateLock.withLock {
            for (group, table) in zip(plan.groups, tables) where group.expiry != nil {
                let rows = table.rows.rows
                for slot in rows.indices where !rows[slot].isDirty && now >= group.expiresAt(rows[slot]) {
                    _ = table.eviction.forget(slot: slot)
                    table.cache.invalidate(slot: slot)
                    table.rows[table.rows.key(ofSlot: slot)] = nil
                    removed += 1
                }
            }
        }
        guard removed > 0 else { return }
        settledLock.withLock { counters.expiredRows += removed }
    }

    /// A compaction filter for the `rows` column family that removes the rows of `spec`
    /// expired at `clock()` (epoch ms). Pass it to the `Database` an engine of `spec` opens.
    public static func expiredRowFilter(spec: CompiledSpec, clock: @escaping @Sendable () -> Int64) -> Database.RowFilter {
        let expiries = Dictionary(uniqueKeysWithValues: spec.groups.compactMap { group in
            RowExpiry(group: group).map { (group.id, $0) }
        })
        return { key, value in
            guard key.count >= 4 else { return false }
            let groupID = UInt32(bigEndian: key.loadUnaligned(as: UInt32.self))
            guard let expiry = expiries[groupID], let row = try? RowView(bytes: value) else { return false }
            return expiry.isExpired(newestEventTime: row.newestEventTime, at: clock())
        }
    }
}
