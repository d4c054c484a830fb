/// Values of the `rows` column family: a versioned row whose aggregates are separate
/// sections, so a reader decodes only the aggregates it was asked for (`RowView`).
///
/// Format version 1 (integers little endian):
/// ```
/// u8  version = 1
/// i64 newestEventTime
/// u32 sectionCount
/// sectionCount × { u64 aggregateID, u32 end }    ascending aggregateID; `end` is the offset
///                                                 just past the section in the payload
/// payload: the sections' bytes, in table order, back to back
/// ```
/// Section `i` spans `end[i-1] ..< end[i]` of the payload (`end[-1]` = 0); the last `end`
/// equals the payload's length.
public enum RowCodec {
    /// The row format this version writes.
    public static let formatVersion: UInt8 = 1
    /// Bytes before the section table: version, newest event time, section count.
    static let headerCount = 1 + 8 + 4
    /// Bytes of one section table entry: aggregate id and end offset.
    static let tableEntryCount = 8 + 4

    /// Encodes a row from its aggregates' bytes (in any order) and the event time of the
    /// newest event it holds.
    ///
    /// - Precondition: aggregate ids are distinct and the sections total less than 4 GiB.
    /// - Complexity: O(n + k log k) for n bytes in k sections.
    public static func encode(sections: [(aggregateID: UInt64, bytes: [UInt8])], newestEventTime: Int64) -> [UInt8] {
        let sorted = sections.sorted { $0.aggregateID < $1.aggregateID }
        let payloadCount = sorted.reduce(0) { $0 + $1.bytes.count }
        precondition(payloadCount <= Int(UInt32.max), "a row's sections must total less than 4 GiB")
        var row: [UInt8] = []
        row.reserveCapacity(headerCount + sorted.count * tableEntryCount + payloadCount)
        row.append(formatVersion)
        row.appendInt64(newestEventTime)
        row.appendUInt32(UInt32(sorted.count))
        var end = 0
        for (index, section) in sorted.enumerated() {
            precondition(
                index == 0 || sorted[index - 1].aggregateID != section.aggregateID,
                "aggregate \(section.aggregateID) appears twice in one row")
            end += section.bytes.count
            row.appendUInt64(section.aggregateID)
            row.appendUInt32(UInt32(end))
        }
        for section in sorted {
            row.append(contentsOf: section.bytes)
        }
        return row
    }
}
