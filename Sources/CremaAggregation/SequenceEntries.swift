/// The newest `limit` events of a sequence aggregate packed in one byte buffer, oldest first,
/// so that an event costs no allocation of its own and a state encodes by copying bytes.
///
/// Each entry is framed: a header (the byte length of its values as a UInt32, its event time
/// and arrival as 64-bit integers, all little-endian), the values in their stored form (one
/// tagged `FieldValue` encoding per field), then the values' length again as a UInt32. The
/// header lets the oldest entry be dropped from the front; the trailer lets entries be read
/// newest first from the back.
struct SequenceEntries: Sendable, Equatable {
    /// The framed entries, oldest first.
    private(set) var bytes: [UInt8] = []
    /// How many entries `bytes` holds.
    private(set) var count = 0

    /// Bytes before an entry's values: their length, the time and the arrival.
    private static let headerBytes = 20
    /// Bytes after an entry's values: their length.
    private static let trailerBytes = 4

    /// No entries.
    init() {}

    /// Packs entries given newest first.
    ///
    /// - Complexity: O(size of the entries).
    init(newestFirst entries: [Stamped<[FieldValue]>]) {
        for entry in entries.reversed() {
            Self.appendEntry(time: entry.time, arrival: entry.arrival, to: &bytes) { bytes in
                for value in entry.value { value.encode(into: &bytes) }
            }
        }
        count = entries.count
    }

    /// The entries unpacked, newest first.
    ///
    /// - Complexity: O(size of the entries).
    var newestFirst: [Stamped<[FieldValue]>] {
        var entries: [Stamped<[FieldValue]>] = []
        entries.reserveCapacity(count)
        forEachNewestFirst { time, arrival, values in
            var reader = ByteReader(values)
            var fields: [FieldValue] = []
            while !reader.isAtEnd {
                do {
                    fields.append(try FieldValue.decode(from: &reader))
                } catch {
                    preconditionFailure("a sequence entry holds values it did not write: \(error)")
                }
            }
            entries.append(Stamped(value: fields, time: time, arrival: arrival))
        }
        return entries
    }

    /// Inserts an event at its place by (time, arrival), its values written by `writeValues`,
    /// then drops the oldest entries beyond `limit`. An event older than `limit` kept entries
    /// is not kept.
    ///
    /// - Complexity: O(1) amortized plus the move of the buffer when the oldest entry drops,
    ///   for an event newer than every entry (the usual case); O(size of the entries) otherwise,
    ///   without allocating either way.
    mutating func insert(time: Int64, arrival: UInt64, limit: Int, writeValues: (inout [UInt8]) -> Void) {
        let insertionOffset = offsetAfterEntries(olderThan: time, arrival: arrival, limit: limit)
        guard let insertionOffset else { return }
        let end = bytes.count
        Self.appendEntry(time: time, arrival: arrival, to: &bytes, writeValues: writeValues)
        if insertionOffset < end { moveLastEntry(from: end, to: insertionOffset) }
        count += 1
        if count > limit { dropOldest() }
    }

    /// The stored form: a varint count, then per entry, newest first, the zigzag time, the
    /// varint arrival and the values.
    ///
    /// - Complexity: O(size of the entries).
    func encode(into output: inout [UInt8]) {
        output.appendVarint(UInt64(count))
        forEachNewestFirst { time, arrival, values in
            output.appendZigzag(time)
            output.appendVarint(arrival)
            output.append(contentsOf: values)
        }
    }

    /// Lines of the buffer `prefetch(entriesAt:)` prefetches.
    private static let firstLines = 8

    /// Prefetches the first lines of the buffer of the entries at `address`: its header, which
    /// `prefetchRest(ofEntriesAt:)` reads, and the oldest entries.
    @inline(__always)
    static func prefetch(entriesAt address: UnsafeRawPointer) {
        Prefetch.collection(at: address + MemoryLayout<Self>.offset(of: \Self.bytes)!, lines: firstLines)
    }

    /// Prefetches the rest of the buffer of the entries at `address`, once `prefetch(entriesAt:)`
    /// has brought in its header: an insert scans back from the newest entry, and dropping the
    /// oldest moves them all.
    @inline(__always)
    static func prefetchRest(ofEntriesAt address: UnsafeRawPointer) {
        Prefetch.lines(from: firstLines, ofArrayAt: address + MemoryLayout<Self>.offset(of: \Self.bytes)!, elementStride: 1)
    }

    /// The offset where an event at (`time`, `arrival`) goes: after every entry older than it.
    /// Nil when `limit` entries or more are newer, so that the event would not be kept.
    ///
    /// - Complexity: O(1) when the event is newer than every entry, else O(entries newer).
    private func offsetAfterEntries(olderThan time: Int64, arrival: UInt64, limit: Int) -> Int? {
        bytes.withUnsafeBytes { buffer in
            var end = buffer.count
            var newer = 0
            while end > 0 {
                let entry = Frame(endingAt: end, in: buffer)
                guard Stamped<[FieldValue]>.isNewer(time: entry.time, arrival: entry.arrival, than: time, arrival) else { break }
                newer += 1
                end = entry.start
            }
            return newer < limit ? end : nil
        }
    }

    /// Moves the entry appended at `start` (the last one) to `offset`, the entries between
    /// moving after it.
    ///
    /// - Complexity: O(size of the entries from `offset`).
    private mutating func moveLastEntry(from start: Int, to offset: Int) {
        bytes.withUnsafeMutableBytes { buffer in
            let base = buffer.baseAddress!
            let entryCount = buffer.count - start
            withUnsafeTemporaryAllocation(byteCount: entryCount, alignment: 1) { entry in
                entry.baseAddress!.copyMemory(from: base + start, byteCount: entryCount)
                (base + offset + entryCount).copyMemory(from: base + offset, byteCount: start - offset)
                (base + offset).copyMemory(from: entry.baseAddress!, byteCount: entryCount)
            }
        }
    }

    /// Drops the oldest entry.
    ///
    /// - Complexity: O(size of the entries): the rest moves to the front.
    private mutating func dropOldest() {
        let length = bytes.withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self).littleEndian) }
        bytes.removeSubrange(0..<(Self.headerBytes + length + Self.trailerBytes))
        count -= 1
    }

    /// Calls `body` with each entry's time, arrival and stored values, newest first.
    ///
    /// - Complexity: O(entries).
    private func forEachNewestFirst(_ body: (_ time: Int64, _ arrival: UInt64, _ values: UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { buffer in
            var end = buffer.count
            while end > 0 {
                let entry = Frame(endingAt: end, in: buffer)
                body(entry.time, entry.arrival, UnsafeRawBufferPointer(rebasing: buffer[entry.values]))
                end = entry.start
            }
        }
    }

    /// The frame of one entry, read back from its trailer.
    private struct Frame {
        /// Where the entry's header starts.
        let start: Int
        /// Where its values are.
        let values: Range<Int>
        /// Its event time.
        let time: Int64
        /// Its arrival.
        let arrival: UInt64

        /// The frame of the entry that ends at `end` in `buffer`.
        @inline(__always)
        init(endingAt end: Int, in buffer: UnsafeRawBufferPointer) {
            let length = Int(buffer.loadUnaligned(fromByteOffset: end - SequenceEntries.trailerBytes, as: UInt32.self).littleEndian)
            values = (end - SequenceEntries.trailerBytes - length)..<(end - SequenceEntries.trailerBytes)
            start = values.lowerBound - SequenceEntries.headerBytes
            time = Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: start + 4, as: Int64.self))
            arrival = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: start + 12, as: UInt64.self))
        }
    }

    /// Appends one framed entry to `bytes`.
    ///
    /// - Complexity: O(size of the values).
    private static func appendEntry(time: Int64, arrival: UInt64, to bytes: inout [UInt8], writeValues: (inout [UInt8]) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: headerBytes))
        writeValues(&bytes)
        let length = UInt32(bytes.count - start - headerBytes)
        bytes.append(contentsOf: repeatElement(0, count: trailerBytes))
        bytes.withUnsafeMutableBytes { buffer in
            buffer.storeBytes(of: length.littleEndian, toByteOffset: start, as: UInt32.self)
            buffer.storeBytes(of: time.littleEndian, toByteOffset: start + 4, as: Int64.self)
            buffer.storeBytes(of: arrival.littleEndian, toByteOffset: start + 12, as: UInt64.self)
            buffer.storeBytes(of: length.littleEndian, toByteOffset: buffer.count - trailerBytes, as: UInt32.self)
        }
    }
}
