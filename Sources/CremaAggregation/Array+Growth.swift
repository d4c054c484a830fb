extension Array {
    /// Inserts `element` at `index`; a full buffer grows to at least `minimumCapacity`, then
    /// doubles as usual. Swift's first buffer holds one or two elements, so a state that grows
    /// one element at a time (a table's values, a sketch's bins) would otherwise reallocate and
    /// copy at 1, 2, 4 and 8 elements.
    ///
    /// - Complexity: O(count).
    @inline(__always)
    mutating func insert(_ element: Element, at index: Int, growingFrom minimumCapacity: Int) {
        if count == capacity { reserveCapacity(Swift.max(minimumCapacity, 2 &* count)) }
        insert(element, at: index)
    }
}
