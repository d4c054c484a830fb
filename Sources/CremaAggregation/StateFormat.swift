/// The versions of an aggregate's encoding. Every encoding starts with the version byte.
///
/// - Version 2 (written): a windowed aggregate is a varint series count, then per series a
///   varint tile count and per tile its index — the first as a zigzag varint, each next as
///   a varint delta from the previous — followed by the kernel state. A lifetime aggregate
///   is the kernel state alone.
/// - Version 1 (read only): the same, except that each tile index is a fixed-width
///   little-endian 8-byte integer.
enum StateFormat {
    /// The version written today.
    static let current: UInt8 = 2
    /// The first version: fixed-width tile indices.
    static let fixedWidthIndices: UInt8 = 1

    /// Reads the version byte, rejecting versions this build cannot read.
    static func readVersion(from reader: inout ByteReader) throws(AggregationError) -> UInt8 {
        let version = try reader.readByte()
        guard version == current || version == fixedWidthIndices else {
            throw AggregationError(.unsupportedVersion, "aggregate state format version \(version) is not 1 or 2")
        }
        return version
    }

    /// Rejects bytes left after a state.
    static func expectEnd(of reader: ByteReader) throws(AggregationError) {
        guard reader.isAtEnd else {
            throw AggregationError(.corruptState, "\(reader.remaining) bytes left after the aggregate state")
        }
    }
}
