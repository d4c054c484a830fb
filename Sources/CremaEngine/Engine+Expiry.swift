import CremaSpec
import CremaStorage

extension Engine {
    /// The most row slots one step of the expiry sweep looks at, so that a table's lock is
    /// held briefly (readers wait for it).
    static let expirySweepSlots = 16_384

    /// Removes from memory the clean rows expired at the server clock, a slice of slots per
    /// call, starting a pass over every group at most once per `checkpointInterval`;
    /// RocksDB's copies go at compaction (`expiredRowFilter`). Reads and events treat an
    /// expired row as absent meanwhile, so when it goes changes no answer. Writer thread.
    func sweepExpiredRows() {
        if expirySweepCursor == nil {
            guard ContinuousClock.now - lastExpirySweep >= configuration.checkpointInterval else { return }
            lastExpirySweep = .now
            expirySweepCursor = (group: 0, slot: 0)
        }
        let now = configuration.clock()
        var budget = Self.expirySweepSlots
        var removed = 0
        while let cursor = expirySweepCursor, budget > 0 {
            guard cursor.group < tables.count else {
                expirySweepCursor = nil
                break
            }
            let group = plan.groups[cursor.group]
            let table = tables[cursor.group]
            let end = min(table.rows.slotCount, cursor.slot + budget)
            guard group.expiry != nil, cursor.slot < end else {
                expirySweepCursor = (cursor.group + 1, 0)
                continue
            }
            table.lock.withWriterLock {
                // Found first, removed after: removing while holding the rows would copy them.
                let expired = { () -> [Int] in
                    let rows = table.rows.rows
                    return (cursor.slot..<end).filter {
                        !rows[$0].isDirty && now >= group.expiresAt(newestEventTime: rows[$0].newestEventTime)
                    }
                }()
                for slot in expired { _ = table.removeRow(slot: slot) }
                removed += expired.count
            }
            budget -= end - cursor.slot
            expirySweepCursor = (cursor.group, end)
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
