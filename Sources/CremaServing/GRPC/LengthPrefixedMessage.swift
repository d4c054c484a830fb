import NIOCore
import SwiftProtobuf

/// A gRPC length-prefixed message serialized in place: swift-protobuf sizes the message, asks
/// for that many bytes and writes into them, and the 5-byte prefix (not compressed, length)
/// is already in front, so the response is serialized once, into the buffer that is written.
struct LengthPrefixedMessage: SwiftProtobufContiguousBytes {
    /// The prefix and the message.
    private(set) var buffer: ByteBuffer

    /// `count` bytes of `byte` behind a prefix announcing them.
    init(repeating byte: UInt8, count: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: 5 + count)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(count))
        buffer.writeRepeatingByte(byte, count: count)
    }

    /// `sequence`'s bytes behind a prefix announcing them.
    init<Bytes: Sequence>(_ sequence: Bytes) where Bytes.Element == UInt8 {
        let bytes = Array(sequence)
        self.init(repeating: 0, count: bytes.count)
        buffer.setBytes(bytes, at: buffer.readerIndex + 5)
    }

    /// The message's length, prefix excluded.
    var count: Int { buffer.readableBytes - 5 }

    /// Calls `body` with the message's bytes, prefix excluded.
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try buffer.withUnsafeReadableBytes { bytes in try body(UnsafeRawBufferPointer(rebasing: bytes.dropFirst(5))) }
    }

    /// Calls `body` with the message's bytes, prefix excluded, to write them.
    mutating func withUnsafeMutableBytes<Result>(_ body: (UnsafeMutableRawBufferPointer) throws -> Result) rethrows -> Result {
        try buffer.withUnsafeMutableReadableBytes { bytes in try body(UnsafeMutableRawBufferPointer(rebasing: bytes.dropFirst(5))) }
    }
}
