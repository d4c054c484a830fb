/// What bounding one group's rows in memory needs, by slot: an estimate of each row's memory
/// and a referenced bit that reads and writes set and the clock hand clears (CLOCK: a row
/// is evicted when the hand passes it twice without a use in between). Changed only while
/// the group table's lock is held.
final class EvictionClock {
    /// One bit per slot, set when the row was read or written since the hand last passed.
    private(set) var referenced: [UInt64] = []
    /// Estimated bytes of each slot's row; 0 for a free slot or a row never checkpointed.
    private var sizes: [Int] = []
    /// The sum of `sizes`.
    private(set) var totalBytes = 0
    /// The next slot the hand looks at.
    private var hand = 0

    /// Makes room for slots up to `slot`.
    func reserve(slot: Int) {
        if slot >= sizes.count { sizes.append(contentsOf: repeatElement(0, count: slot + 1 - sizes.count)) }
        let words = slot / 64 + 1
        if words > referenced.count { referenced.append(contentsOf: repeatElement(0, count: words - referenced.count)) }
    }

    /// Records a use of `slot`.
    func markReferenced(slot: Int) {
        reserve(slot: slot)
        referenced[slot >> 6] |= 1 << UInt64(slot & 63)
    }

    /// Records the estimated memory of the row in `slot`.
    func setSize(_ bytes: Int, slot: Int) {
        reserve(slot: slot)
        totalBytes += bytes - sizes[slot]
        sizes[slot] = bytes
    }

    /// Forgets `slot` (its row left memory); returns the estimated bytes it freed.
    @discardableResult
    func forget(slot: Int) -> Int {
        guard slot < sizes.count else { return 0 }
        let freed = sizes[slot]
        totalBytes -= freed
        sizes[slot] = 0
        referenced[slot >> 6] &= ~(1 << UInt64(slot & 63))
        return freed
    }

    /// The next slot to evict among `slotCount`: a sized row that `isEvictable` accepts and
    /// that was not used since the hand last passed it; nil after two turns without one.
    ///
    /// - Complexity: O(slots) at worst.
    func nextVictim(slotCount: Int, isEvictable: (Int) -> Bool) -> Int? {
        guard slotCount > 0 else { return nil }
        reserve(slot: slotCount - 1)
        for _ in 0..<(2 * slotCount) {
            let slot = hand
            hand = (hand + 1) % slotCount
            guard sizes[slot] > 0 else { continue }
            let bit: UInt64 = 1 << UInt64(slot & 63)
            if referenced[slot >> 6] & bit != 0 {
                referenced[slot >> 6] &= ~bit
            } else if isEvictable(slot) {
                return slot
            }
        }
        return nil
    }

    /// Calls `body` with the referenced bits, for readers marking the rows they read.
    func withReferencedBits<Result>(_ body: (UnsafeMutableBufferPointer<UInt64>) -> Result) -> Result {
        referenced.withUnsafeMutableBufferPointer { body($0) }
    }
}
