import CPrefetch

/// Prefetch hints ahead of an `add`, read from raw memory: a hint must not retain (write to)
/// an object it is about to bring into the cache, or it would wait for the miss it means to hide.
/// Hints never fault, so a stale or empty collection only wastes a prefetch.
public enum Prefetch {
    /// The dependent steps of `Aggregator.prefetch`: the tile buffers, the newest tiles, what
    /// those tiles hold.
    public static let depths = 3

    /// Bytes per cache line.
    public static let lineBytes = 64
    /// The offset of an array's first element in its storage object (object header, count,
    /// capacity), for elements aligned to at most 16 bytes.
    public static let arrayElementsOffset = 32
    /// The offset of an array's count in its storage object.
    public static let arrayCountOffset = 16

    /// The storage object of the Array or Dictionary stored at `address` (both are one reference).
    @inline(__always)
    public static func storage(ofCollectionAt address: UnsafeRawPointer) -> UnsafeRawPointer {
        address.load(as: UnsafeRawPointer.self)
    }

    /// Prefetches `count` cache lines from `address`.
    @inline(__always)
    public static func lines(_ count: Int, from address: UnsafeRawPointer) {
        for line in 0..<count { crema_prefetch(address + line &* lineBytes) }
    }

    /// Prefetches the first `count` cache lines of the storage of the Array or Dictionary stored
    /// at `address`: its header and first elements (a small Dictionary's buckets, keys and values).
    @inline(__always)
    static func collection(at address: UnsafeRawPointer, lines count: Int) {
        lines(count, from: storage(ofCollectionAt: address))
    }

    /// Prefetches the cache lines of the storage of the Array stored at `address` (elements of
    /// `elementStride` bytes) from line `first` to the end of its elements, once
    /// `collection(at:lines:)` has brought its header in.
    @inline(__always)
    static func lines(from first: Int, ofArrayAt address: UnsafeRawPointer, elementStride: Int) {
        let storage = storage(ofCollectionAt: address)
        let end = arrayElementsOffset &+ storage.load(fromByteOffset: arrayCountOffset, as: Int.self) &* elementStride
        var line = first &* lineBytes
        while line < end {
            crema_prefetch(storage + line)
            line &+= lineBytes
        }
    }
}
