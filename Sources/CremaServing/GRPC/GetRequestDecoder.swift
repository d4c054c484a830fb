import CremaEngine
import GRPCCore
import NIOCore

/// Decodes a serialized `GetRequest`: its `text_ids` straight from the wire into
/// ``PackedTexts`` (no `String` per id; validated as UTF-8, as protobuf requires of a
/// `string`), every other field with swift-protobuf.
enum GetRequestDecoder {
    /// The field number of `text_ids` (Protos/crema/v1/features.proto).
    private static let textIDsField: UInt64 = 6

    /// The request in `message`, its `text_ids` left empty, and its text ids.
    /// - Throws: `RPCError` `INTERNAL` naming what is malformed (as for any message that does
    ///   not decode), or the text id that is not valid UTF-8.
    /// - Complexity: O(bytes).
    static func decode(_ message: ByteBuffer) throws(RPCError) -> (request: Crema_V1_GetRequest, textIDs: PackedTexts) {
        let (textIDs, others) = try message.withUnsafeReadableBytes { bytes throws(RPCError) in try split(bytes) }
        do {
            if textIDs.isEmpty {
                return (try Crema_V1_GetRequest(serializedBytes: message.readableBytesSpan), textIDs)
            }
            return (try Crema_V1_GetRequest(serializedBytes: others), textIDs)
        } catch {
            throw RPCError(code: .internalError, message: "cannot decode the GetRequest: \(error)")
        }
    }

    /// The text ids in `bytes`, and the other fields' bytes (empty when there are no text ids).
    /// Two passes: the first checks the fields and sizes the ids, the second copies them.
    private static func split(_ bytes: UnsafeRawBufferPointer) throws(RPCError) -> (textIDs: PackedTexts, others: [UInt8]) {
        var others: [UInt8] = []
        var textCount = 0
        var textBytes = 0
        // The fields other than text_ids are copied verbatim, each run of them at once.
        var runStart = 0
        try forEachField(of: bytes) { (field, fieldStart, value) throws(RPCError) in
            guard field == textIDsField, let value else { return }
            textCount += 1
            textBytes += value.count
            if runStart < fieldStart { others.append(contentsOf: bytes[runStart..<fieldStart]) }
            runStart = value.baseAddress! + value.count - bytes.baseAddress!
        }
        guard textCount > 0 else { return (PackedTexts(), []) }
        others.append(contentsOf: bytes[runStart...])
        var ends: [Int] = []
        let utf8 = try [UInt8](unsafeUninitializedCapacity: textBytes) { (buffer, initialized) throws(RPCError) in
            ends = try [Int](unsafeUninitializedCapacity: textCount) { (ends, endsInitialized) throws(RPCError) in
                var written = 0
                try forEachField(of: bytes) { (field, _, value) throws(RPCError) in
                    guard field == textIDsField, let value, let source = value.baseAddress else { return }
                    UnsafeMutableRawPointer(buffer.baseAddress! + written).copyMemory(from: source, byteCount: value.count)
                    written += value.count
                    ends[endsInitialized] = written
                    endsInitialized += 1
                }
            }
            initialized = textBytes
        }
        do {
            return (try PackedTexts(utf8: utf8, ends: ends), others)
        } catch {
            throw RPCError(code: .internalError, message: "cannot decode the GetRequest: text_ids[\(error.position)] is not valid UTF-8")
        }
    }

    /// Calls `body` with each field's number, where it starts, and its bytes if it is
    /// length-delimited.
    /// - Throws: `RPCError` `INTERNAL` when the fields are malformed.
    private static func forEachField(
        of bytes: UnsafeRawBufferPointer,
        _ body: (_ field: UInt64, _ start: Int, _ value: UnsafeRawBufferPointer?) throws(RPCError) -> Void
    ) throws(RPCError) {
        var reader = WireReader(bytes: bytes)
        while !reader.isAtEnd {
            let fieldStart = reader.offset
            let key = try reader.varint()
            var value: UnsafeRawBufferPointer?
            switch key & 7 {
            case 0: _ = try reader.varint()
            case 1: try reader.skip(8)
            case 2: value = try reader.lengthDelimited()
            case 5: try reader.skip(4)
            default:
                throw RPCError(code: .internalError, message: "cannot decode the GetRequest: field \(key >> 3) has wire type \(key & 7)")
            }
            try body(key >> 3, fieldStart, value)
        }
    }

    /// Reads protobuf wire-format primitives.
    private struct WireReader {
        let bytes: UnsafeRawBufferPointer
        private(set) var offset = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        var isAtEnd: Bool { offset >= bytes.count }

        /// A base-128 varint of at most 10 bytes.
        @inline(__always)
        mutating func varint() throws(RPCError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            throw RPCError(code: .internalError, message: "cannot decode the GetRequest: malformed varint at byte \(offset)")
        }

        /// A length and that many bytes.
        @inline(__always)
        mutating func lengthDelimited() throws(RPCError) -> UnsafeRawBufferPointer {
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else {
                throw RPCError(code: .internalError, message: "cannot decode the GetRequest: a field of \(length) bytes overruns the message")
            }
            defer { offset += Int(length) }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))])
        }

        mutating func skip(_ count: Int) throws(RPCError) {
            guard count <= bytes.count - offset else {
                throw RPCError(code: .internalError, message: "cannot decode the GetRequest: truncated at byte \(offset)")
            }
            offset += count
        }
    }
}
