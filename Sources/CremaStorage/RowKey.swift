/// Keys of the `rows` column family: group id (u32 big endian) ‖ entity key bytes
/// (`EntityKeyCodec`), so the rows of one group are contiguous.
public enum RowKey {
    /// The `rows` key of an entity's row in a feature group.
    ///
    /// - Complexity: O(n) in the length of the entity key.
    public static func make(groupID: UInt32, entityKey: some Collection<UInt8>) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(4 + entityKey.count)
        withUnsafeBytes(of: groupID.bigEndian) { key.append(contentsOf: $0) }
        key.append(contentsOf: entityKey)
        return key
    }

    /// The first key of a group's rows: its group id alone. Every row of the group sorts at
    /// or after it, and before the prefix of `groupID + 1`.
    public static func prefix(groupID: UInt32) -> [UInt8] {
        make(groupID: groupID, entityKey: [])
    }

    /// The group id of a `rows` key.
    ///
    /// - Throws: `StorageError` (`.corruption`) for a key shorter than 4 bytes.
    public static func groupID(of key: some Collection<UInt8>) throws -> UInt32 {
        guard key.count >= 4 else {
            throw StorageError(.corruption, "row key: at least 4 bytes expected, got \(key.count)")
        }
        return key.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The entity key bytes of a `rows` key (everything after the group id).
    ///
    /// - Complexity: O(n) in the length of the key.
    /// - Throws: `StorageError` (`.corruption`) for a key shorter than 4 bytes.
    public static func entityKey(of key: some Collection<UInt8>) throws -> [UInt8] {
        guard key.count >= 4 else {
            throw StorageError(.corruption, "row key: at least 4 bytes expected, got \(key.count)")
        }
        return [UInt8](key.dropFirst(4))
    }
}
